"""store.library and store.lists on SQLite and PostgreSQL: idempotent saves and marks, the
recommender's ``member_signals`` contract, list privacy and pending imports."""

import datetime as dt

import pytest

from paperwire.errors import NotFound
from paperwire.store import library, lists, votes
from paperwire.store.users import AlreadyExists
from tests.factories import make_papers, make_store_user


def test_save_twice_keeps_one_row_and_unsave_twice_changes_nothing(db):
    (rec,) = make_papers(db, 1)
    user = make_store_user(db)
    with db.session() as s:
        assert library.save_paper(s, user.id, rec.id) is True
        assert library.save_paper(s, user.id, rec.id) is False
        assert library.count_saved(s, user.id) == 1
        assert library.unsave_paper(s, user.id, rec.id) is True
        assert library.unsave_paper(s, user.id, rec.id) is False
        assert library.count_saved(s, user.id) == 0


def test_saving_an_unknown_or_hidden_paper_is_not_found(db):
    (rec,) = make_papers(db, 1)
    user = make_store_user(db)
    from sqlalchemy import update

    from paperwire.store.models import Paper

    with db.session() as s:
        s.execute(update(Paper).where(Paper.id == rec.id).values(hidden=True))
    with db.session() as s, pytest.raises(NotFound):
        library.save_paper(s, user.id, rec.id)
    with db.session() as s, pytest.raises(NotFound):
        library.save_paper(s, user.id, "9999.99999")


def test_saved_page_is_newest_saved_first(db):
    recs = make_papers(db, 5)
    user = make_store_user(db)
    base = dt.datetime(2026, 1, 1)
    with db.session() as s:
        for i, rec in enumerate(recs):
            library.save_paper(s, user.id, rec.id, at=base + dt.timedelta(hours=i))
    with db.session() as s:
        first = [p.id for p, _ in library.saved_page(s, user.id, offset=0, limit=3)]
        rest = [p.id for p, _ in library.saved_page(s, user.id, offset=3, limit=3)]
    assert first + rest == [r.id for r in reversed(recs)]


def test_more_like_this_replaces_not_interested(db):
    (rec,) = make_papers(db, 1)
    user = make_store_user(db)
    with db.session() as s:
        library.set_feedback(s, user.id, rec.id, "less")
        library.set_feedback(s, user.id, rec.id, "more")
        assert library.feedback_for(s, user.id, [rec.id]) == {rec.id: "more"}
        library.set_feedback(s, user.id, rec.id, None)
        assert library.feedback_for(s, user.id, [rec.id]) == {}


def test_member_signals_reports_every_kind_and_only_the_members_own(db):
    a, b, c, d, e = (r.id for r in make_papers(db, 5))
    alice, bob = make_store_user(db), make_store_user(db)
    with db.session() as s:
        votes.add_vote(s, alice.id, a)
        library.save_paper(s, alice.id, b)
        reading = lists.create_list(s, alice.id, "reading group", is_public=True)
        lists.add_item(s, reading.id, c)
        library.set_feedback(s, alice.id, d, "more")
        library.set_feedback(s, alice.id, e, "less")
        library.follow_topic(s, alice.id, "protein folding")
        votes.add_vote(s, bob.id, e)
        library.save_paper(s, bob.id, e)
    with db.session() as s:
        sig = library.member_signals(s, alice.id)
        bob_sig = library.member_signals(s, bob.id)
    assert [p for p, _ in sig.upvoted] == [a]
    assert [p for p, _ in sig.saved] == [b]
    assert sig.lists == [library.ListSignal(reading.id, "reading group", True, [c])]
    assert [p for p, _ in sig.more_like_this] == [d]
    assert [p for p, _ in sig.not_interested] == [e]
    assert sig.topics == ["protein folding"]
    assert all(isinstance(at, dt.datetime) for _, at in sig.upvoted + sig.saved)
    assert (bob_sig.lists, bob_sig.topics, bob_sig.more_like_this) == ([], [], [])
    assert not sig.is_empty


def test_members_with_signals_lists_members_with_a_positive_signal(db):
    a, b = (r.id for r in make_papers(db, 2))
    voter, saver, topical, only_negative, idle = (make_store_user(db) for _ in range(5))
    with db.session() as s:
        votes.add_vote(s, voter.id, a)
        library.save_paper(s, saver.id, b)
        library.follow_topic(s, topical.id, "graphs")
        library.set_feedback(s, only_negative.id, a, "less")
        lists.create_list(s, idle.id, "empty list")
    with db.session() as s:
        assert library.members_with_signals(s) == sorted([voter.id, saver.id, topical.id])


def test_list_names_are_unique_per_member_without_regard_to_case(db):
    alice, bob = make_store_user(db), make_store_user(db)
    with db.session() as s:
        lists.create_list(s, alice.id, "Thesis")
        lists.create_list(s, bob.id, "thesis")
        with pytest.raises(AlreadyExists):
            lists.create_list(s, alice.id, "THESIS")


def test_private_list_is_not_found_for_others_and_public_for_all(db):
    alice, bob = make_store_user(db), make_store_user(db)
    with db.session() as s:
        row = lists.create_list(s, alice.id, "mine")
    with db.session() as s:
        assert lists.get_visible(s, row.id, alice.id).id == row.id
        for viewer in (bob.id, None):
            with pytest.raises(NotFound):
                lists.get_visible(s, row.id, viewer)
        with pytest.raises(NotFound):
            lists.get_owned(s, bob.id, row.id)
        lists.set_public_owned(s, alice.id, row.id, True)
        assert lists.get_visible(s, row.id, None).id == row.id


def test_making_a_list_private_drops_its_followers(db):
    alice, bob = make_store_user(db), make_store_user(db)
    with db.session() as s:
        row = lists.create_list(s, alice.id, "public", is_public=True)
        assert lists.follow(s, bob.id, row.id) is True
        assert lists.follow(s, bob.id, row.id) is False
        assert [r.id for r, _ in lists.followed_lists(s, bob.id)] == [row.id]
        lists.set_public_owned(s, alice.id, row.id, False)
        assert lists.followed_lists(s, bob.id) == []
        with pytest.raises(NotFound):
            lists.follow(s, bob.id, row.id)


def test_pending_import_is_queued_once_and_completed_into_the_list(db):
    user = make_store_user(db)
    (rec,) = make_papers(db, 1)
    with db.session() as s:
        row = lists.create_list(s, user.id, "later")
        assert lists.queue_import(s, row.id, rec.id) is True
        assert lists.queue_import(s, row.id, rec.id) is False
        assert lists.pending_ids(s) == [rec.id]
        assert lists.complete_import(s, rec.id, rec.id) == 1
        assert lists.pending_for_list(s, row.id) == []
        assert [p.id for p, _ in lists.items(s, row.id)] == [rec.id]


def test_account_deletion_removes_the_whole_library(db):
    from sqlalchemy import func, select

    from paperwire.store import library_models as lm
    from paperwire.store.users import delete_account

    a, b = (r.id for r in make_papers(db, 2))
    alice, bob = make_store_user(db), make_store_user(db)
    with db.session() as s:
        library.save_paper(s, alice.id, a)
        library.set_feedback(s, alice.id, b, "less")
        library.follow_topic(s, alice.id, "graphs")
        mine = lists.create_list(s, alice.id, "mine", is_public=True)
        lists.add_item(s, mine.id, a)
        lists.queue_import(s, mine.id, "2101.00001")
        lists.follow(s, bob.id, mine.id)
        theirs = lists.create_list(s, bob.id, "theirs", is_public=True)
        lists.follow(s, alice.id, theirs.id)
        library.save_paper(s, bob.id, a)
    with db.session() as s:
        delete_account(s, alice.id)
    with db.session() as s:
        counts = {
            m.__tablename__: s.scalar(select(func.count()).select_from(m))
            for m in (
                lm.SavedPaper,
                lm.PaperList,
                lm.ListItem,
                lm.ListFollow,
                lm.PaperFeedback,
                lm.FollowedTopic,
                lm.PendingImport,
            )
        }
    # Only bob's own save and list survive.
    assert counts == {
        "saved_papers": 1,
        "paper_lists": 1,
        "list_items": 0,
        "list_follows": 0,
        "paper_feedback": 0,
        "followed_topics": 0,
        "pending_imports": 0,
    }


def test_renaming_to_a_taken_name_is_a_conflict_and_changes_nothing(db):
    user = make_store_user(db)
    with db.session() as s:
        lists.create_list(s, user.id, "Thesis")
        other = lists.create_list(s, user.id, "Reading")
    with db.session() as s, pytest.raises(AlreadyExists):
        lists.rename_owned(s, user.id, other.id, "thesis")
    with db.session() as s:
        assert sorted(row.name for row, _ in lists.lists_of(s, user.id)) == ["Reading", "Thesis"]
