"""store/dialect.py: one INSERT ... ON CONFLICT for SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from paperwire.store.dialect import upsert
from paperwire.store.models import Upvote
from tests.factories import make_papers
from tests.web.accountkit import fast_hashing, make_user  # noqa: F401

T0 = dt.datetime(2026, 1, 1, 12, 0)
T1 = dt.datetime(2026, 1, 2, 12, 0)


@pytest.fixture
def ids(db):
    [paper] = make_papers(db, 1)
    return make_user(db, "alice").id, paper.id


def _insert(db, uid, pid, at, **kw):
    with db.session() as s:
        stmt = (
            upsert(s, Upvote, ["user_id", "paper_id"], **kw)
            .values(user_id=uid, paper_id=pid, created_at=at)
            .returning(Upvote.user_id)
        )
        return s.execute(stmt).first() is not None


def _stored(db):
    with db.session() as s:
        return [(u.user_id, u.paper_id, u.created_at) for u in s.scalars(select(Upvote))]


def test_do_nothing_keeps_the_existing_row_and_returns_no_row(db, ids):
    uid, pid = ids
    assert _insert(db, uid, pid, T0) is True
    assert _insert(db, uid, pid, T1) is False
    assert _stored(db) == [(uid, pid, T0)]


def test_update_by_column_names_takes_the_proposed_values(db, ids):
    uid, pid = ids
    _insert(db, uid, pid, T0)
    assert _insert(db, uid, pid, T1, update=["created_at"]) is True
    assert _stored(db) == [(uid, pid, T1)]


def test_update_by_mapping_sets_the_given_values(db, ids):
    uid, pid = ids
    _insert(db, uid, pid, T0)
    later = T1 + dt.timedelta(days=5)
    _insert(db, uid, pid, T1, update={"created_at": later})
    assert _stored(db) == [(uid, pid, later)]


def test_executemany_with_a_list_of_rows_skips_the_existing_ones(db, ids):
    uid, pid = ids
    other = make_papers(db, 1)[0].id
    _insert(db, uid, pid, T0)
    with db.session() as s:
        s.execute(
            upsert(s, Upvote),
            [
                dict(user_id=uid, paper_id=pid, created_at=T1),
                dict(user_id=uid, paper_id=other, created_at=T1),
            ],
        )
    assert sorted(_stored(db)) == sorted([(uid, pid, T0), (uid, other, T1)])


def test_update_without_index_elements_is_refused(db):
    with db.session() as s, pytest.raises(ValueError):
        upsert(s, Upvote, update=["created_at"])
