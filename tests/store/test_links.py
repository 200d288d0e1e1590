"""Paper links in the store (store/links.py) and their actions (services/links.py): extracted
at ingest, demo code links, the backfill, member links and moderation; SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, update

from paperwire.cli import main
from paperwire.errors import BadInput, NotFound
from paperwire.services import links as service
from paperwire.store import links as store
from paperwire.store.models import Paper, PaperLink
from paperwire.store.papers import upsert_papers
from tests.factories import make_papers, make_record

CODE = "Our code is available at https://github.com/owner/repo."


def _links(db, pid):
    with db.session() as s:
        return sorted(
            (link.kind, link.url, link.source, link.status)
            for link in s.scalars(select(PaperLink).where(PaperLink.paper_id == pid))
        )


def _modified(db, pid):
    with db.session() as s:
        return s.get(Paper, pid).modified_at


def test_import_stores_the_links_of_the_abstract_and_comment(db):
    rec = make_papers(
        db,
        abstract="We study graphs. " + CODE,
        comments="Project page: https://owner.github.io/repo/",
    )[0]
    assert _links(db, rec.id) == [
        ("code", "https://github.com/owner/repo", "extracted", "visible"),
        ("project", "https://owner.github.io/repo", "extracted", "visible"),
    ]


def test_reimporting_the_same_paper_adds_no_link_twice(db):
    rec = make_record(abstract=CODE)
    for _ in range(2):
        with db.session() as s:
            upsert_papers(s, [rec])
    assert len(_links(db, rec.id)) == 1


def test_a_changed_abstract_replaces_its_extracted_links(db):
    rec = make_papers(db, abstract=CODE)[0]
    newer = make_record(
        id=rec.id, version=2, abstract="Code: https://gitlab.com/a/b", published_at=rec.published_at
    )
    with db.session() as s:
        upsert_papers(s, [newer])
    assert _links(db, rec.id) == [("code", "https://gitlab.com/a/b", "extracted", "visible")]


def test_a_removed_link_is_not_brought_back_by_the_backfill(db):
    rec = make_papers(db, abstract=CODE)[0]
    with db.session() as s:
        link_id = s.scalar(select(PaperLink.id).where(PaperLink.paper_id == rec.id))
    admin = SimpleNamespace(id=1, is_admin=True)
    service.moderate(db, admin, link_id, "hide")
    service.backfill(db)
    assert _links(db, rec.id) == [("code", "https://github.com/owner/repo", "extracted", "removed")]
    with db.session() as s:
        assert store.visible_kinds(s, [rec.id]) == {}


def test_backfill_extracts_links_of_papers_stored_before_links_and_is_idempotent(db):
    recs = make_papers(db, 3, abstract=CODE)
    with db.session() as s:
        s.execute(delete(PaperLink))
    before = _modified(db, recs[0].id)
    first = service.backfill(db, batch_size=2)
    assert (first.papers, first.changed) == (3, 3)
    assert _modified(db, recs[0].id) > before  # the search indexes see the new has:code
    again = service.backfill(db, batch_size=2)
    assert (again.papers, again.changed) == (3, 0)
    assert all(len(_links(db, r.id)) == 1 for r in recs)


def test_backfill_adds_the_demo_seed_code_url_to_a_demo_paper(db):
    make_papers(db, id="2506.13277", abstract="no links here")
    service.backfill(db)
    assert _links(db, "2506.13277") == [
        ("code", "https://github.com/ghrua/seqpe", "demo", "visible")
    ]


def test_backfill_command_shows_a_summary(db_url, tmp_path, db):
    make_papers(db, 2, abstract=CODE)
    with db.session() as s:
        s.execute(delete(PaperLink))
    env = {
        "PAPERWIRE_DATABASE_URL": db_url,
        "PAPERWIRE_DATA_DIR": str(tmp_path / "data"),
        "PAPERWIRE_LOAD_DEMO_DATA": "false",
        "PAPERWIRE_LOG_LEVEL": "WARNING",
    }
    result = CliRunner().invoke(
        main, ["links", "backfill", "--progress"], env=env, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "links backfill: 2 papers read, 2 with new or changed links" in result.stdout
    assert "papers" in result.stderr  # the progress bar


def _member(uid=7, admin=False):
    return SimpleNamespace(id=uid, is_admin=admin)


def _user(db, name="mia", admin=False):
    from paperwire.store.users import create_user

    with db.session() as s:
        return create_user(s, name, "a-long-password", is_admin=admin).id


def test_member_link_shows_at_once_and_bumps_the_paper(db, settings):
    rec = make_papers(db, abstract="plain")[0]
    uid = _user(db)
    before = _modified(db, rec.id)
    added = service.add_link(settings, db, _member(uid), rec.id, "github.com/x/y/", None)
    assert (added.url, added.kind, added.status) == ("https://github.com/x/y", "code", "visible")
    assert _modified(db, rec.id) > before
    with db.session() as s:
        assert store.visible_kinds(s, [rec.id]) == {rec.id: {"code"}}


def test_member_link_waits_for_review_when_reviews_are_on(db, settings):
    rec = make_papers(db, abstract="plain")[0]
    uid = _user(db)
    settings = settings.__class__(**{**vars(settings), "member_links_review": True})
    added = service.add_link(settings, db, _member(uid), rec.id, "https://x.org/data", "dataset")
    assert added.status == "pending"
    with db.session() as s:
        assert store.visible_kinds(s, [rec.id]) == {}
    service.moderate(db, _member(1, admin=True), added.id, "show")
    with db.session() as s:
        assert store.visible_kinds(s, [rec.id]) == {rec.id: {"dataset"}}


@pytest.mark.parametrize(
    "url, kind, error",
    [
        ("javascript:alert(1)", "code", "not a web address"),
        ("https://github.com/x/y", "binary", "kind must be one of"),
        ("", None, "give the link"),
    ],
)
def test_member_link_refusals_name_the_problem(db, settings, url, kind, error):
    rec = make_papers(db)[0]
    with pytest.raises(BadInput, match=error):
        service.add_link(settings, db, _member(_user(db)), rec.id, url, kind)


def test_member_link_twice_or_after_removal_is_a_conflict(db, settings):
    rec = make_papers(db, abstract=CODE)[0]
    uid = _user(db)
    with pytest.raises(store.LinkExists, match="already on this paper"):
        service.add_link(settings, db, _member(uid), rec.id, "https://github.com/owner/repo", None)
    with db.session() as s:
        link_id = s.scalar(select(PaperLink.id).where(PaperLink.paper_id == rec.id))
    service.moderate(db, _member(1, admin=True), link_id, "hide")
    with pytest.raises(store.LinkExists, match="removed"):
        service.add_link(settings, db, _member(uid), rec.id, "https://github.com/owner/repo", None)


def test_member_link_on_a_hidden_or_missing_paper_is_not_found(db, settings):
    rec = make_papers(db)[0]
    with db.session() as s:
        s.execute(update(Paper).where(Paper.id == rec.id).values(hidden=True))
    for pid in (rec.id, "2999.99999"):
        with pytest.raises(NotFound):
            service.add_link(
                settings,
                db,
                _member(_user(db, f"u{pid[-3:]}")),
                pid,
                "https://github.com/x/y",
                None,
            )


def test_members_daily_link_limit_says_why(db, settings):
    rec = make_papers(db)[0]
    uid = _user(db)
    settings = settings.__class__(**{**vars(settings), "member_links_per_day": 2})
    for i in range(2):
        service.add_link(settings, db, _member(uid), rec.id, f"https://github.com/x/r{i}", None)
    with pytest.raises(service.DailyLimit, match="limit is 2 a day"):
        service.add_link(settings, db, _member(uid), rec.id, "https://github.com/x/r9", None)


def test_only_admins_moderate(db, settings):
    rec = make_papers(db, abstract=CODE)[0]
    with db.session() as s:
        link_id = s.scalar(select(PaperLink.id).where(PaperLink.paper_id == rec.id))
    for user in (None, _member(5)):
        with pytest.raises(service.NotAllowed):
            service.moderate(db, user, link_id, "hide")
    assert service.moderate(db, _member(1, admin=True), link_id, "delete") == rec.id
    assert _links(db, rec.id) == []
    with pytest.raises(NotFound):
        service.moderate(db, _member(1, admin=True), link_id, "hide")


def test_a_deleted_member_keeps_no_name_on_their_links(db, settings):
    rec = make_papers(db)[0]
    uid = _user(db)
    service.add_link(settings, db, _member(uid), rec.id, "https://github.com/x/y", None)
    from paperwire.store.users import delete_account

    with db.session() as s:
        delete_account(s, uid)
    with db.session() as s:
        views, total = store.moderation_list(s)
    assert total == 1 and views[0].username is None and views[0].link.added_by is None


def test_member_links_beyond_the_daily_limit_are_refused_but_admins_are_not_limited(db, settings):
    rec = make_papers(db, abstract="plain")[0]
    uid = _user(db)
    settings = settings.__class__(**{**vars(settings), "member_links_per_day": 2})
    for n in range(2):
        service.add_link(settings, db, _member(uid), rec.id, f"https://x.org/{n}", "project")
    with db.session() as s:
        assert store.member_links_since(s, uid, dt.datetime(2000, 1, 1)) == 2
    with pytest.raises(service.DailyLimit, match="limit is 2"):
        service.add_link(settings, db, _member(uid), rec.id, "https://x.org/3", "project")
    service.add_link(settings, db, _member(uid, admin=True), rec.id, "https://x.org/4", "project")
