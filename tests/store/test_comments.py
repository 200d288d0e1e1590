"""store.comments on SQLite and PostgreSQL: num_comments in step, soft delete, threads."""

import pytest

from paperwire.errors import BadInput, NotFound
from paperwire.store import comments
from paperwire.store.models import Paper
from tests.factories import make_papers, make_store_user


def _num(db, pid):
    with db.session() as s:
        return s.get(Paper, pid).num_comments


def test_add_and_delete_keep_num_comments_in_step(db):
    (rec,) = make_papers(db, 1)
    user = make_store_user(db)
    with db.session() as s:
        first = comments.add_comment(s, rec.id, user.id, "one", "<p>one</p>")
        comments.add_comment(s, rec.id, user.id, "two", "<p>two</p>")
    assert _num(db, rec.id) == 2
    with db.session() as s:
        assert comments.delete_comment(s, first.id) is True
    assert _num(db, rec.id) == 1
    with db.session() as s:
        assert comments.delete_comment(s, first.id) is False  # twice: decremented once
    assert _num(db, rec.id) == 1


def test_deleted_comment_body_is_never_returned(db):
    (rec,) = make_papers(db, 1)
    user = make_store_user(db)
    with db.session() as s:
        c = comments.add_comment(s, rec.id, user.id, "secret", "<p>secret</p>")
        comments.delete_comment(s, c.id)
    with db.session() as s:
        assert comments.list_comments(s, rec.id) == []
        assert s.get(type(c), c.id).body_html == ""


def test_thread_order_and_depths(db):
    (rec,) = make_papers(db, 1)
    alice, bob = make_store_user(db, "alice"), make_store_user(db, "bob")
    with db.session() as s:
        top1 = comments.add_comment(s, rec.id, alice.id, "top1", "t1")
        top2 = comments.add_comment(s, rec.id, bob.id, "top2", "t2")
        reply = comments.add_comment(s, rec.id, bob.id, "re", "r", parent_id=top1.id)
        nested = comments.add_comment(s, rec.id, alice.id, "re re", "rr", parent_id=reply.id)
    with db.session() as s:
        views = comments.list_comments(s, rec.id)
    assert [v.id for v in views] == [top1.id, reply.id, nested.id, top2.id]
    assert [v.username for v in views] == ["alice", "bob", "alice", "bob"]
    assert comments.comment_depths(views) == {top1.id: 0, reply.id: 1, nested.id: 2, top2.id: 0}


def test_deleted_parent_with_visible_reply_stays_as_placeholder(db):
    (rec,) = make_papers(db, 1)
    user = make_store_user(db)
    with db.session() as s:
        parent = comments.add_comment(s, rec.id, user.id, "p", "p")
        child = comments.add_comment(s, rec.id, user.id, "c", "c", parent_id=parent.id)
        lonely = comments.add_comment(s, rec.id, user.id, "l", "l")
        comments.delete_comment(s, parent.id)
        comments.delete_comment(s, lonely.id)
    with db.session() as s:
        views = comments.list_comments(s, rec.id)
    assert [(v.id, v.comment.deleted) for v in views] == [(parent.id, True), (child.id, False)]
    assert _num(db, rec.id) == 1


def test_reply_to_a_comment_of_another_paper_is_refused(db):
    a, b = make_papers(db, 2)
    user = make_store_user(db)
    with db.session() as s:
        other = comments.add_comment(s, b.id, user.id, "x", "x")
    with db.session() as s, pytest.raises(BadInput, match=f"comment {other.id} does not exist"):
        comments.add_comment(s, a.id, user.id, "y", "y", parent_id=other.id)
    assert _num(db, a.id) == 0


def test_comment_on_unknown_paper_or_delete_unknown_comment_is_not_found(db):
    user = make_store_user(db)
    with db.session() as s, pytest.raises(NotFound):
        comments.add_comment(s, "0000.00000", user.id, "x", "x")
    with db.session() as s, pytest.raises(NotFound):
        comments.delete_comment(s, 12345)
