"""The paper_authors index and the author reads behind author pages and follows."""

import datetime as dt
import uuid

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import select, text, update

from paperwire.authors.names import strict_key
from paperwire.store import authors as store
from paperwire.store.migrate import upgrade
from paperwire.store.models import Paper, PaperAuthor
from paperwire.store.papers import upsert_papers
from tests.factories import make_papers, make_record, make_store_user


def _rows(db, pid):
    with db.session() as s:
        return [
            tuple(r)
            for r in s.execute(
                select(PaperAuthor.position, PaperAuthor.name, PaperAuthor.strict_key)
                .where(PaperAuthor.paper_id == pid)
                .order_by(PaperAuthor.position)
            )
        ]


def _people(*names):
    return [{"name": n, "affiliations": []} for n in names]


def test_import_indexes_each_author_with_keys(db):
    (rec,) = make_papers(db, authors=_people("C. Balázs", ",", "Łukasz Kaiser"))
    assert _rows(db, rec.id) == [
        (0, "C. Balázs", "c balazs"),
        (2, "Łukasz Kaiser", "lukasz kaiser"),
    ]


def test_new_version_with_other_authors_replaces_the_rows(db):
    (rec,) = make_papers(db, authors=_people("Ann Lee", "Bo Chen"))
    newer = make_record(
        id=rec.id,
        version=2,
        authors=_people("Bo Chen", "Cy Dai"),
        versions=[{"version": 2, "created": "2025-01-01T00:00:00"}],
    )
    with db.session() as s:
        upsert_papers(s, [newer])
    assert [r[1] for r in _rows(db, rec.id)] == ["Bo Chen", "Cy Dai"]


def test_reimport_unchanged_leaves_the_rows(db):
    (rec,) = make_papers(db, authors=_people("Ann Lee"))
    with db.session() as s:
        upsert_papers(s, [rec])
    assert _rows(db, rec.id) == [(0, "Ann Lee", "ann lee")]


def test_migration_backfills_papers_stored_before_it(tmp_path):
    from paperwire.store.db import Database

    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(db, "0003")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO papers (id, source, title, abstract, authors, author_count, categories,"
                " versions, content_hash, imported_upvotes, upvotes, num_comments, hidden, "
                "created_at, modified_at) VALUES ('2101.00001', 'arxiv', 't', '', "
                "'[{\"name\": \"Balázs, C.\"}, \"Tri Dao\"]', 2, '[]', '[]', 'h', 0, 0, 0, false, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    upgrade(db)
    with db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT position, strict_key, loose_key FROM paper_authors ORDER BY position")
        ).all()
    assert [tuple(r) for r in rows] == [(0, "c balazs", "balazs c"), (1, "tri dao", "dao t")]
    db.dispose()


def test_author_page_keeps_namesakes_apart_and_lists_them_as_variants(db):
    make_papers(db, 2, authors=_people("John Smith", "Ann Lee"))
    make_papers(db, 1, authors=_people("J. Smith"))
    make_papers(db, 1, authors=_people("Jane Smith"))
    make_papers(db, 1, authors=_people("Smith, John"))
    with db.session() as s:
        who = store.resolve(s, "john smith")
        assert (who.strict_key, who.name, who.papers) == ("john smith", "John Smith", 3)
        assert [(v.name, v.papers, v.compatible) for v in who.variants] == [
            ("J. Smith", 1, True),
            ("Jane Smith", 1, False),
        ]
        assert store.coauthors(s, "john smith") == [("Ann Lee", "ann lee", 2)]
        assert store.resolve(s, "Nobody Here") is None


def test_hidden_papers_are_not_on_author_pages(db):
    shown, hidden = make_papers(db, 2, authors=_people("Ann Lee"))
    with db.session() as s:
        s.execute(update(Paper).where(Paper.id == hidden.id).values(hidden=True))
    with db.session() as s:
        assert [p.id for p in store.author_papers(s, "ann lee")] == [shown.id]
        assert store.resolve(s, "Ann Lee").papers == 1


@hsettings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(n=st.integers(0, 12), limit=st.integers(1, 5))
def test_author_papers_pages_are_newest_first_and_complete(db, n, limit):
    # A fresh author per example: the database is shared between examples.
    name = f"Ann Lee{uuid.uuid4().hex[:12]}"
    key = strict_key(name)
    records = make_papers(db, n, authors=_people(name, "Bo Chen"))
    expected = [r.id for r in sorted(records, key=lambda r: (r.published_at, r.id), reverse=True)]
    got, page = [], 1
    with db.session() as s:
        while True:
            batch = store.author_papers(s, key, page=page, limit=limit)
            if not batch:
                break
            assert len(batch) <= limit
            got += [p.id for p in batch]
            page += 1
    assert got == expected


def test_follow_twice_is_one_follow_and_followed_authors_lists_keys(db):
    user = make_store_user(db)
    with db.session() as s:
        assert store.follow(s, user.id, "ann lee", "Ann Lee") is True
        assert store.follow(s, user.id, "ann lee", "Ann Lee") is False
        store.follow(s, user.id, "bo chen", "Bo Chen")
    with db.session() as s:
        assert store.followed_authors(s, user.id) == ["ann lee", "bo chen"]
        assert store.unfollow(s, user.id, "ann lee") is True
        assert store.unfollow(s, user.id, "ann lee") is False
    with db.session() as s:
        assert store.followed_authors(s, user.id) == ["bo chen"]
        assert store.followers_count(s, "bo chen") == 1


def test_papers_by_followed_keys_since_a_date(db):
    (old,) = make_papers(db, authors=_people("Ann Lee"), published_at=dt.datetime(2020, 1, 1))
    (new,) = make_papers(
        db, authors=_people("Bo Chen", "Ann Lee"), published_at=dt.datetime(2026, 1, 2)
    )
    make_papers(db, authors=_people("Cy Dai"), published_at=dt.datetime(2026, 1, 3))
    with db.session() as s:
        found = store.papers_by_keys_since(s, ["ann lee", "bo chen"], dt.datetime(2026, 1, 1))
    assert [(p.id, names) for p, names in found] == [(new.id, ["Bo Chen", "Ann Lee"])]


def test_account_deletion_removes_follows_and_claims(db, settings):
    from sqlalchemy import func

    from paperwire.services import authors as service
    from paperwire.store.models import AuthorClaim, AuthorFollow
    from paperwire.store.users import delete_account

    make_papers(db, authors=_people("Ann Lee"))
    member, admin = make_store_user(db), make_store_user(db, is_admin=True)
    other = make_store_user(db)
    service.follow(db, member, "Ann Lee")
    service.approve(db, admin, service.claim(settings, db, member, "Ann Lee").id)
    service.follow(db, other, "Ann Lee")
    with db.session() as s:
        delete_account(s, member.id)
        delete_account(s, admin.id)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuthorClaim)) == 0
        assert [f.user_id for f in s.scalars(select(AuthorFollow))] == [other.id]
        assert store.followed_authors(s, other.id) == ["ann lee"]


def test_account_export_lists_follows_and_claims_of_that_member_only(db, settings):
    from paperwire.services import authors as service

    make_papers(db, authors=_people("Ann Lee", "Bo Chen"))
    member, other = make_store_user(db), make_store_user(db)
    service.follow(db, member, "Lee, Ann")
    service.claim(settings, db, member, "Bo Chen")
    service.follow(db, other, "Bo Chen")
    with db.session() as s:
        data = store.export_member_authors(s, member.id)
    assert [(f["name"], f["strictKey"]) for f in data["followedAuthors"]] == [
        ("Ann Lee", "ann lee")
    ]
    assert [(c["name"], c["status"]) for c in data["authorClaims"]] == [("Bo Chen", "pending")]
