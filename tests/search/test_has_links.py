"""has:code follows the links as they change: added, hidden, shown again, deleted, before and
after the lexical index folds them in (SQLite and PostgreSQL)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from paperwire.search.filters import SearchFilters
from paperwire.search.service import SearchService
from paperwire.services import links as links_service
from paperwire.store.users import create_user
from tests.factories import make_papers


@pytest.fixture
def svc(settings, db):
    service = SearchService(settings, db, background=False)
    yield service
    service.close()


def _ids(svc, query, **kw):
    return {h.paper_id for h in svc.search(query, mode="lexical", limit=50, **kw).hits}


def test_has_code_follows_member_links_and_moderation(svc, settings, db):
    with_code = make_papers(db, abstract="kernel methods, code at https://github.com/a/b")[0]
    plain = make_papers(db, abstract="kernel methods without any link")[0]
    svc.lexical.rebuild()
    assert _ids(svc, "kernel has:code") == {with_code.id}
    with db.session() as s:
        uid = create_user(s, "mia", "x").id
    added = links_service.add_link(
        settings,
        db,
        SimpleNamespace(id=uid, is_admin=False),
        plain.id,
        "https://gitlab.com/c/d",
        "code",
    )
    assert _ids(svc, "kernel has:code") == {with_code.id, plain.id}
    assert _ids(svc, "has:code", filters=SearchFilters(has=("code",))) == {with_code.id, plain.id}
    admin = SimpleNamespace(id=uid, is_admin=True)
    links_service.moderate(db, admin, added.id, "hide")
    assert _ids(svc, "kernel has:code") == {with_code.id}
    svc.lexical.refresh(block=True)
    assert _ids(svc, "kernel has:code") == {with_code.id}
    links_service.moderate(db, admin, added.id, "show")
    svc.lexical.rebuild()
    assert _ids(svc, "kernel", filters=SearchFilters(has=("code",))) == {with_code.id, plain.id}
    links_service.moderate(db, admin, added.id, "delete")
    assert _ids(svc, "kernel has:code") == {with_code.id}
    assert _ids(svc, "kernel has:dataset") == set()
