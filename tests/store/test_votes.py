"""store.votes on SQLite and PostgreSQL: one vote per user and paper, counter in step."""

import threading

import pytest
from sqlalchemy import func, select, update

from paperwire.errors import NotFound
from paperwire.store import votes
from paperwire.store.models import Paper, Upvote
from tests.factories import make_papers, make_store_user


def _counts(db, pid):
    with db.session() as s:
        paper = s.get(Paper, pid)
        rows = s.scalar(select(func.count()).select_from(Upvote).where(Upvote.paper_id == pid))
        return paper.upvotes, paper.imported_upvotes, rows


def test_vote_twice_counts_once(db):
    (rec,) = make_papers(db, 1)
    user = make_store_user(db)
    with db.session() as s:
        first = votes.add_vote(s, user.id, rec.id)
    with db.session() as s:
        second = votes.add_vote(s, user.id, rec.id)
    assert (first.changed, first.upvotes) == (True, 1)
    assert (second.changed, second.upvoted, second.upvotes) == (False, True, 1)
    assert _counts(db, rec.id) == (1, 0, 1)


def test_toggle_adds_then_removes(db):
    (rec,) = make_papers(db, 1)
    user = make_store_user(db)
    with db.session() as s:
        on = votes.toggle_vote(s, user.id, rec.id)
    with db.session() as s:
        off = votes.toggle_vote(s, user.id, rec.id)
    assert (on.upvoted, on.upvotes) == (True, 1)
    assert (off.upvoted, off.changed, off.upvotes) == (False, True, 0)
    assert _counts(db, rec.id) == (0, 0, 0)


def test_counter_includes_imported_upvotes(db):
    (rec,) = make_papers(db, 1, imported_upvotes=7)
    alice, bob = make_store_user(db), make_store_user(db)
    with db.session() as s:
        votes.add_vote(s, alice.id, rec.id)
        votes.add_vote(s, bob.id, rec.id)
        votes.remove_vote(s, alice.id, rec.id)
    assert _counts(db, rec.id) == (8, 7, 1)


def test_removing_a_vote_never_touches_another_users_vote(db):
    (rec,) = make_papers(db, 1)
    alice, bob = make_store_user(db), make_store_user(db)
    with db.session() as s:
        votes.add_vote(s, alice.id, rec.id)
    with db.session() as s:
        result = votes.remove_vote(s, bob.id, rec.id)  # bob has no vote to remove
    assert (result.changed, result.upvotes) == (False, 1)
    with db.session() as s:
        assert votes.has_voted(s, alice.id, rec.id)
        assert not votes.has_voted(s, bob.id, rec.id)


def test_vote_on_unknown_paper_is_not_found(db):
    user = make_store_user(db)
    with db.session() as s, pytest.raises(NotFound, match="no paper with id 9999.99999"):
        votes.add_vote(s, user.id, "9999.99999")


def test_set_vote_is_idempotent(db):
    (rec,) = make_papers(db, 1)
    user = make_store_user(db)
    for wanted in (True, True, False, False, True):
        with db.session() as s:
            result = votes.set_vote(s, user.id, rec.id, wanted)
        assert result.upvoted is wanted
    assert _counts(db, rec.id) == (1, 0, 1)


def test_voted_paper_ids_lists_only_that_users_votes(db):
    recs = make_papers(db, 3)
    alice, bob = make_store_user(db), make_store_user(db)
    with db.session() as s:
        votes.add_vote(s, alice.id, recs[0].id)
        votes.add_vote(s, bob.id, recs[1].id)
    with db.session() as s:
        ids = [r.id for r in recs]
        assert votes.voted_paper_ids(s, alice.id, ids) == {recs[0].id}
        assert votes.voted_paper_ids(s, None, ids) == set()
        assert votes.voted_paper_ids(s, alice.id, []) == set()


def test_recount_repairs_a_drifted_counter(db):
    (rec,) = make_papers(db, 1, imported_upvotes=2)
    user = make_store_user(db)
    with db.session() as s:
        votes.add_vote(s, user.id, rec.id)
        s.execute(update(Paper).where(Paper.id == rec.id).values(upvotes=99))
    with db.session() as s:
        assert votes.recount_upvotes(s, rec.id) == 3


def test_concurrent_votes_of_one_user_count_once(db):
    """Eight threads, separate connections, the same user and paper at once: one vote."""
    (rec,) = make_papers(db, 1)
    user = make_store_user(db)
    barrier = threading.Barrier(8)
    errors = []

    def vote():
        try:
            barrier.wait()
            with db.session() as s:
                votes.add_vote(s, user.id, rec.id)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=vote) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _counts(db, rec.id) == (1, 0, 1)


def test_concurrent_votes_of_many_users_all_count(db):
    (rec,) = make_papers(db, 1)
    users = [make_store_user(db) for _ in range(6)]
    barrier = threading.Barrier(len(users))

    def vote(uid):
        barrier.wait()
        with db.session() as s:
            votes.add_vote(s, uid, rec.id)

    threads = [threading.Thread(target=vote, args=(u.id,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _counts(db, rec.id) == (6, 0, 6)
