"""One list's recommendations on the web: the "Recommended for this list" section of the list
page (its owner only) and ``GET /api/me/lists/{id}/recommendations`` (Bearer token), through
the real app (SQLite and PostgreSQL) on the real-record fixture."""

from __future__ import annotations

import re
from html import unescape

import pytest

from paperwire.services import library as library_service
from tests.recommend.shared_fixtures import fresh_pools, sample  # noqa: F401  (fixtures)
from tests.recommend.store_kit import ids_of
from tests.web.accountkit import (  # noqa: F401
    bearer,
    fast_hashing,
    make_app,
    make_user,
    new_client,
    signin,
    token_for,
    wapp,
    web,
)

SECTION = "Recommended for this list"


def _list(db, user, ids, *, public=False):
    row = library_service.create_list(db, user.id, "reading group", is_public=public)
    for pid in ids:
        library_service.add_to_list(db, user.id, row.id, pid)
    return row.id


def test_the_owner_sees_recommendations_with_reasons_on_the_list_page(web, db, sample):
    alice = make_user(db, "alice")
    list_id = _list(db, alice, ids_of(sample, "cs.IR", old=True))
    signin(web, "alice")
    page = unescape(web.get(f"/lists/{list_id}").text)
    assert SECTION in page
    reasons = re.findall(r'<p class="reason">([^<]+)</p>', page)
    assert len(reasons) == 10
    assert all(r.startswith("Close to your list “reading group”: similar to “") for r in reasons)


@pytest.mark.parametrize("viewer", ["anonymous", "bob"])
def test_nobody_else_sees_them_even_on_a_public_list(web, db, sample, viewer):
    alice = make_user(db, "alice")
    list_id = _list(db, alice, ids_of(sample, "cs.IR", old=True), public=True)
    if viewer == "bob":
        make_user(db, "bob")
        signin(web, "bob")
    r = web.get(f"/lists/{list_id}")
    assert r.status_code == 200 and "reading group" in r.text
    assert SECTION not in r.text and 'class="reason"' not in r.text
    doc = web.get(f"/lists/{list_id}", headers={"Accept": "application/json"}).json()
    assert "recommended" not in doc and "reasonKind" not in r.text


def test_the_api_gives_the_owner_the_lists_recommendations(web, db, sample):
    alice = make_user(db, "alice")
    in_list = ids_of(sample, "cs.IR", old=True)
    list_id = _list(db, alice, in_list)
    r = web.get(
        f"/api/me/lists/{list_id}/recommendations?limit=5", headers=bearer(token_for(db, alice))
    )
    assert r.status_code == 200, r.text
    items = r.json()
    assert len(items) == 5
    held_out = set(ids_of(sample, "cs.IR", old=False))
    assert sum(i["paper"]["id"] in held_out for i in items) >= 4
    assert {i["reasonKind"] for i in items} == {"list"}
    assert all(i["reasonPaperId"] in in_list and i["reasonLabel"] == "reading group" for i in items)


@pytest.mark.parametrize("public", [False, True])
def test_the_api_is_401_without_a_token_and_404_for_another_members_list(web, db, sample, public):
    alice, bob = make_user(db, "alice"), make_user(db, "bob")
    list_id = _list(db, alice, ids_of(sample, "cs.IR", old=True)[:3], public=public)
    path = f"/api/me/lists/{list_id}/recommendations"
    assert web.get(path).status_code == 401
    assert web.get(path, headers=bearer(token_for(db, bob))).status_code == 404
    assert (
        web.get(
            f"/api/me/lists/{list_id + 1000}/recommendations", headers=bearer(token_for(db, alice))
        ).status_code
        == 404
    )


def test_the_api_refuses_unknown_query_parameters(web, db, sample):
    alice = make_user(db, "alice")
    list_id = _list(db, alice, ids_of(sample, "cs.IR", old=True)[:3])
    r = web.get(
        f"/api/me/lists/{list_id}/recommendations?limt=5", headers=bearer(token_for(db, alice))
    )
    assert r.status_code == 400 and "limt" in r.text
