"""Discussions as actions: post, edit and delete comments, and who is notified of them. The
web forms, the JSON API (and any job) call these; SQL stays in ``store/``.

Invariants:
- **Who is notified** is ``recipients`` (a pure function): the author of the comment replied
  to, the members @mentioned (existing names only), and the members with a stake in the
  paper (claimed authors, its submitter, members who saved it); never the comment's own
  author; each member once, for the strongest reason (reply > mention > paper).
- Notifications are written in the same transaction as the comment: a comment that exists
  has notified; one that failed notified nobody. Mail about them is never sent here (the
  ``notify-mail`` job batches it later).
- **Only its author edits a comment** (administrators moderate by deleting, as before;
  they see every earlier version). An edit keeps the version it replaces, marks the comment
  edited, and notifies members it newly mentions (once: a member mentioned before is not
  notified again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from paperwire.errors import BadInput, NotFound, PaperwireError
from paperwire.markup.markdown import MAX_COMMENT_CHARS, mention_candidates, render_comment
from paperwire.store import Session
from paperwire.store import comments as comment_store
from paperwire.store import notifications as notes
from paperwire.store.db import Database
from paperwire.store.models import User
from paperwire.store.users import existing_usernames, get_user, user_ids_of


class NotAllowed(PaperwireError):
    """The member may not do this (403 on the web)."""

    status_code = 403
    code = "forbidden"


def recipients(
    actor_id: int | None,
    *,
    parent_author_id: int | None = None,
    mentioned_ids: set[int] | frozenset[int] = frozenset(),
    paper_people: dict[int, str] | None = None,
) -> dict[int, tuple[str, str | None]]:
    """``{user_id: (kind, reason)}`` of the members a comment notifies (module invariants)."""
    out: dict[int, tuple[str, str | None]] = {}
    for uid, why in (paper_people or {}).items():
        out[uid] = ("paper", why)
    for uid in mentioned_ids:
        out[uid] = ("mention", None)
    if parent_author_id is not None:
        out[parent_author_id] = ("reply", None)
    if actor_id is not None:
        out.pop(actor_id, None)
    return out


def clean_body(body: str | None) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise BadInput("the comment is empty")
    if len(body) > MAX_COMMENT_CHARS:
        raise BadInput(
            f"a comment has at most {MAX_COMMENT_CHARS:,} characters; this one has {len(body):,}"
        )
    return body


def _render(session: Session, body: str) -> tuple[str, set[int]]:
    """The body's HTML and the ids of the members it mentions."""
    names = existing_usernames(session, mention_candidates(body))
    html = render_comment(body, names)
    ids: set[int] = set()
    if names:
        ids = user_ids_of(session, names)
    return html, ids


@dataclass
class Posted:
    view: comment_store.CommentView
    notified: int


def post_comment(
    db: Database, user: User, paper_id: str, body: str, parent_id: int | None = None
) -> Posted:
    body = clean_body(body)
    with db.session() as session:
        html, mentioned = _render(session, body)
        comment = comment_store.add_comment(
            session, paper_id, user.id, body, html, parent_id=parent_id
        )
        parent_author = None
        if parent_id is not None:
            parent = comment_store.get_comment(session, parent_id)
            parent_author = parent.user_id if parent is not None else None
        who = recipients(
            user.id,
            parent_author_id=parent_author,
            mentioned_ids=mentioned,
            paper_people=notes.paper_people(session, paper_id),
        )
        n = notes.add(session, comment, who)
    return Posted(comment_store.CommentView(comment, user.username), n)


def edit_comment(db: Database, user: User, comment_id: int, body: str) -> comment_store.CommentView:
    body = clean_body(body)
    with db.session() as session:
        comment = comment_store.get_comment(session, comment_id)
        if comment is None:
            raise NotFound(f"no comment with id {comment_id}")
        if comment.user_id != user.id:
            raise NotAllowed("only the author of a comment can edit it")
        html, mentioned = _render(session, body)
        comment, changed = comment_store.edit_comment(session, comment_id, body, html)
        if changed and mentioned:
            notes.add(session, comment, recipients(user.id, mentioned_ids=mentioned))
    return comment_store.CommentView(comment, user.username)


@dataclass
class History:
    comment: object
    author: str | None
    revisions: list[Any]


def comment_history(db: Database, user: User, comment_id: int) -> History:
    """A comment's earlier versions, for administrators only."""
    if user is None or not user.is_admin:
        raise NotAllowed("only administrators see the earlier versions of a comment")
    with db.session() as session:
        comment = comment_store.get_comment(session, comment_id)
        if comment is None:
            raise NotFound(f"no comment with id {comment_id}")
        author = get_user(session, comment.user_id) if comment.user_id else None
        revisions = comment_store.comment_revisions(session, comment_id)
        session.expunge_all()
    return History(comment, author.username if author else None, revisions)
