"""Discussions (services/discussion.py): who is notified, editing and its history — on
SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paperwire.errors import BadInput, NotFound
from paperwire.services import discussion
from paperwire.services.discussion import NotAllowed, recipients
from paperwire.store import notifications as notes
from tests.factories import make_feed_papers, make_papers, make_store_user

# --- the rule ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "actor, parent, mentioned, people, expected",
    [
        # a reply notifies the parent's author
        (1, 2, set(), {}, {2: ("reply", None)}),
        # replying to yourself notifies nobody
        (1, 1, set(), {}, {}),
        # a mention notifies the mentioned member; mentioning yourself does not
        (1, None, {3, 1}, {}, {3: ("mention", None)}),
        # the paper's people, each with their reason; the actor is left out
        (
            1,
            None,
            set(),
            {1: "submitted", 4: "saved", 5: "authored"},
            {4: ("paper", "saved"), 5: ("paper", "authored")},
        ),
        # one notification each, for the strongest reason: reply > mention > paper
        (
            1,
            2,
            {2, 3},
            {2: "submitted", 3: "saved", 6: "submitted"},
            {2: ("reply", None), 3: ("mention", None), 6: ("paper", "submitted")},
        ),
    ],
)
def test_who_is_notified_table(actor, parent, mentioned, people, expected):
    assert (
        recipients(actor, parent_author_id=parent, mentioned_ids=mentioned, paper_people=people)
        == expected
    )


def _reference(actor, parent, mentioned, people):
    out = {}
    for uid in set(people) | set(mentioned) | ({parent} if parent is not None else set()):
        if uid == actor:
            continue
        if uid == parent:
            out[uid] = ("reply", None)
        elif uid in mentioned:
            out[uid] = ("mention", None)
        else:
            out[uid] = ("paper", people[uid])
    return out


ids = st.integers(1, 8)


@given(
    ids,
    st.none() | ids,
    st.sets(ids),
    st.dictionaries(ids, st.sampled_from(["authored", "submitted", "saved"])),
)
def test_who_is_notified_matches_the_reference(actor, parent, mentioned, people):
    assert recipients(
        actor, parent_author_id=parent, mentioned_ids=mentioned, paper_people=people
    ) == _reference(actor, parent, mentioned, people)


# --- posting ---------------------------------------------------------------------------------


def _kinds(db, user_id):
    with db.session() as s:
        return sorted((v.kind, v.reason, v.actor) for v in notes.list_for(s, user_id))


def test_reply_notifies_the_parent_author_once_and_not_the_replier(db):
    paper = make_papers(db, 1)[0]
    alice, bob = make_store_user(db, "alice"), make_store_user(db, "bob")
    first = discussion.post_comment(db, alice, paper.id, "A question about $x^2$")
    assert first.notified == 0
    reply = discussion.post_comment(db, bob, paper.id, "An answer, @alice", first.view.id)
    assert reply.notified == 1
    assert _kinds(db, alice.id) == [("reply", None, "bob")]  # a reply, not also a mention
    assert _kinds(db, bob.id) == []


def test_mentions_notify_existing_members_only(db):
    paper = make_papers(db, 1)[0]
    alice, carol = make_store_user(db, "alice"), make_store_user(db, "Carol")
    discussion.post_comment(db, alice, paper.id, "cc @carol @nobody `@alice`")
    assert _kinds(db, carol.id) == [("mention", None, "alice")]
    assert _kinds(db, alice.id) == []


def test_comment_on_a_submitted_or_saved_paper_notifies_submitter_and_saver(db):
    from paperwire.store import library

    submitter, saver, commenter = (make_store_user(db, n) for n in ("sub", "saver", "talker"))
    paper = make_feed_papers(db, 1, day=dt.date(2026, 12, 1))[0]
    from sqlalchemy import update

    from paperwire.store.models import FeedEntry

    with db.session() as s:
        s.execute(
            update(FeedEntry)
            .where(FeedEntry.paper_id == paper.id)
            .values(submitted_by=submitter.id)
        )
        library.save_paper(s, saver.id, paper.id)
    discussion.post_comment(db, commenter, paper.id, "Interesting")
    assert _kinds(db, submitter.id) == [("paper", "submitted", "talker")]
    assert _kinds(db, saver.id) == [("paper", "saved", "talker")]
    assert _kinds(db, commenter.id) == []


def test_comment_on_a_paper_notifies_its_approved_claimed_author(db):
    from paperwire.store import author_claims
    from paperwire.store.authors import strict_keys_of

    paper = make_papers(db, 1, authors=[{"name": "Ada Lovelace", "affiliations": []}])[0]
    ada, pending, talker = (make_store_user(db, n) for n in ("ada", "maybe", "talker"))
    key = strict_keys_of(paper.authors)[0]
    with db.session() as s:
        claim = author_claims.add(s, ada.id, key, "Ada Lovelace")
        author_claims.decide(s, claim, "approved", by=None)
        author_claims.add(s, pending.id, key, "Ada Lovelace")  # not approved: not an author
    discussion.post_comment(db, talker, paper.id, "Lovely engine")
    assert _kinds(db, ada.id) == [("paper", "authored", "talker")]
    assert _kinds(db, pending.id) == []


def test_a_failed_comment_notifies_nobody(db):
    paper = make_papers(db, 1)[0]
    alice, bob = make_store_user(db, "alice"), make_store_user(db, "bob")
    with pytest.raises(BadInput):
        discussion.post_comment(db, alice, paper.id, "   ")
    with pytest.raises(BadInput):
        discussion.post_comment(db, alice, paper.id, "@bob hi", parent_id=999)
    assert _kinds(db, bob.id) == []


# --- editing ---------------------------------------------------------------------------------


def test_only_the_author_edits_and_history_keeps_every_version(db):
    paper = make_papers(db, 1)[0]
    alice = make_store_user(db, "alice")
    bob = make_store_user(db, "bob")
    admin = make_store_user(db, "root2", is_admin=True)
    c = discussion.post_comment(db, alice, paper.id, "first $a_1$").view
    with pytest.raises(NotAllowed):
        discussion.edit_comment(db, bob, c.id, "vandalised")
    with pytest.raises(NotAllowed):  # administrators moderate by deleting, not rewriting
        discussion.edit_comment(db, admin, c.id, "rewritten")
    discussion.edit_comment(db, alice, c.id, "second $a_2$")
    edited = discussion.edit_comment(db, alice, c.id, "third $a_3$").comment
    assert edited.body == "third $a_3$" and "<msub>" in edited.body_html
    assert edited.edited_at is not None
    with pytest.raises(NotAllowed):
        discussion.comment_history(db, alice, c.id)
    history = discussion.comment_history(db, admin, c.id)
    assert [r.body for r in history.revisions] == ["first $a_1$", "second $a_2$"]
    assert history.revisions[0].written_at <= history.revisions[1].written_at
    assert history.author == "alice"


def test_editing_to_the_same_text_keeps_no_revision(db):
    paper = make_papers(db, 1)[0]
    alice, admin = make_store_user(db, "alice"), make_store_user(db, "mod", is_admin=True)
    c = discussion.post_comment(db, alice, paper.id, "same").view
    assert discussion.edit_comment(db, alice, c.id, "same").comment.edited_at is None
    assert discussion.comment_history(db, admin, c.id).revisions == []


def test_edit_notifies_newly_mentioned_members_once(db):
    paper = make_papers(db, 1)[0]
    alice, bob = make_store_user(db, "alice"), make_store_user(db, "bob")
    c = discussion.post_comment(db, alice, paper.id, "hello").view
    discussion.edit_comment(db, alice, c.id, "hello @bob")
    discussion.edit_comment(db, alice, c.id, "hello again @bob")
    assert _kinds(db, bob.id) == [("mention", None, "alice")]


def test_deleted_or_unknown_comments_cannot_be_edited(db):
    from paperwire.store import comments

    paper = make_papers(db, 1)[0]
    alice = make_store_user(db, "alice")
    c = discussion.post_comment(db, alice, paper.id, "bye").view
    with db.session() as s:
        comments.delete_comment(s, c.id)
    with pytest.raises(BadInput):
        discussion.edit_comment(db, alice, c.id, "back")
    with pytest.raises(NotFound):
        discussion.edit_comment(db, alice, 99999, "x")


def test_account_deletion_removes_revisions_and_notifications(db):
    from sqlalchemy import func, select

    from paperwire.store.discussion_models import CommentRevision, Notification
    from paperwire.store.users import delete_account

    paper = make_papers(db, 1)[0]
    alice, bob = make_store_user(db, "alice"), make_store_user(db, "bob")
    c = discussion.post_comment(db, alice, paper.id, "secret first draft").view
    discussion.edit_comment(db, alice, c.id, "clean @bob")
    other = discussion.post_comment(db, bob, paper.id, "reply", c.id).view
    with db.session() as s:
        delete_account(s, alice.id)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(CommentRevision)) == 0
        assert (
            s.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.user_id == alice.id)
            )
            == 0
        )
        # bob's mention notification stays, without alice's name
        rows = notes.list_for(s, bob.id)
        assert [(r.kind, r.actor, r.excerpt) for r in rows] == [("mention", None, "")]
    assert other.id


def test_account_export_holds_notifications_choice_and_own_revisions_only(db):
    paper = make_papers(db, 1)[0]
    alice, bob = make_store_user(db, "alice"), make_store_user(db, "bob")
    c = discussion.post_comment(db, alice, paper.id, "draft one").view
    discussion.edit_comment(db, alice, c.id, "final")
    b = discussion.post_comment(db, bob, paper.id, "bob's draft @alice").view
    discussion.edit_comment(db, bob, b.id, "bob's final @alice")
    with db.session() as s:
        notes.set_email(s, alice.id, True)
        mine = notes.export_member(s, alice.id)
        theirs = notes.export_member(s, bob.id)
    assert mine["notificationEmails"] is True
    assert [(n["kind"], n["from"]) for n in mine["notifications"]] == [("mention", "bob")]
    assert [r["body"] for r in mine["commentRevisions"]] == ["draft one"]
    assert [r["body"] for r in theirs["commentRevisions"]] == ["bob's draft @alice"]
    assert theirs["notifications"] == []
