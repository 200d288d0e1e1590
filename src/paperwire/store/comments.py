"""Comments on papers, with ``papers.num_comments`` kept in step.

Invariants:
- ``Paper.num_comments`` equals the number of the paper's comments with ``deleted = false``;
  adding and deleting change the row and the counter in the same transaction, and deleting a
  comment twice decrements once (the update is conditional on ``deleted = false``).
- Deletion is soft: the row stays (replies keep their parent, moderators keep a record) but
  its body is never shown again; ``body_html`` is blanked.
- ``body_html`` is produced by the caller (``paperwire.markup.markdown``) from ``body`` once, at
  write time; this module stores what it is given.
- Who may delete is decided by the caller; ``delete_comment`` takes no user.
- Editing keeps history: ``edit_comment`` saves the version it replaces in
  ``comment_revisions`` (with when that version was written) in the same transaction as the
  change, and sets ``edited_at``; a deleted comment cannot be edited. Who may edit (the
  author only) is decided by the caller.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from paperwire.errors import BadInput, NotFound
from paperwire.store.db import rowcount
from paperwire.store.discussion_models import CommentRevision
from paperwire.store.models import Comment, Paper, User, utcnow


@dataclass
class CommentView:
    """A comment with its author's name, as pages and the API show it."""

    comment: Comment
    username: str | None

    @property
    def id(self) -> int:
        return self.comment.id


def add_comment(
    session: Session,
    paper_id: str,
    user_id: int,
    body: str,
    body_html: str,
    *,
    parent_id: int | None = None,
    now: dt.datetime | None = None,
) -> Comment:
    hidden = session.scalar(select(Paper.hidden).where(Paper.id == paper_id))
    if hidden is None or hidden:  # a hidden paper takes no comments (and says so as 404)
        raise NotFound(f"no paper with id {paper_id}")
    if parent_id is not None:
        parent = session.get(Comment, parent_id)
        if parent is None or parent.paper_id != paper_id or parent.deleted:
            raise BadInput(
                f"comment {parent_id} does not exist on paper {paper_id}; cannot reply to it"
            )
    comment = Comment(
        paper_id=paper_id,
        user_id=user_id,
        parent_id=parent_id,
        body=body,
        body_html=body_html,
        deleted=False,
        created_at=now or utcnow(),
    )
    session.add(comment)
    session.flush()
    session.execute(
        update(Paper).where(Paper.id == paper_id).values(num_comments=Paper.num_comments + 1)
    )
    return comment


def get_comment(session: Session, comment_id: int) -> Comment | None:
    return session.get(Comment, comment_id)


def delete_comment(session: Session, comment_id: int) -> bool:
    """Soft-delete a visible comment; returns False when it was gone already."""
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise NotFound(f"no comment with id {comment_id}")
    changed = (
        rowcount(
            session.execute(
                update(Comment)
                .where(Comment.id == comment_id, Comment.deleted.is_(False))
                .values(deleted=True, body_html="", edited_at=utcnow())
                .execution_options(synchronize_session=False)
            )
        )
        or 0
    )
    if changed:
        session.execute(
            update(Paper)
            .where(Paper.id == comment.paper_id)
            .values(num_comments=Paper.num_comments - 1)
        )
    session.refresh(comment)
    return changed == 1


def edit_comment(
    session: Session, comment_id: int, body: str, body_html: str, *, now: dt.datetime | None = None
) -> tuple[Comment, bool]:
    """Replace a visible comment's text, keeping the old version; returns (comment, changed).
    The same text again changes nothing and saves no revision."""
    comment = session.get(Comment, comment_id, with_for_update=True)
    if comment is None:
        raise NotFound(f"no comment with id {comment_id}")
    if comment.deleted:
        raise BadInput(f"comment {comment_id} was deleted; it cannot be edited")
    if comment.body == body:
        return comment, False
    now = now or utcnow()
    session.add(
        CommentRevision(
            comment_id=comment.id,
            body=comment.body,
            body_html=comment.body_html,
            written_at=comment.edited_at or comment.created_at,
            replaced_at=now,
        )
    )
    comment.body, comment.body_html, comment.edited_at = body, body_html, now
    session.flush()
    return comment, True


def comment_revisions(session: Session, comment_id: int) -> list[CommentRevision]:
    """Earlier versions of a comment, oldest first (for moderators)."""
    return list(
        session.scalars(
            select(CommentRevision)
            .where(CommentRevision.comment_id == comment_id)
            .order_by(CommentRevision.id)
        )
    )


def list_comments(session: Session, paper_id: str) -> list[CommentView]:
    """A paper's comments in thread order: each top-level comment (oldest first) followed by
    its replies (oldest first, any depth). Deleted comments are kept only when a visible reply
    hangs below them, so a thread never loses its context; their body is not returned."""
    rows = session.execute(
        select(Comment, User.username)
        .outerjoin(User, User.id == Comment.user_id)
        .where(Comment.paper_id == paper_id)
        .order_by(Comment.created_at, Comment.id)
    ).all()
    children: dict[int | None, list[CommentView]] = {}
    for comment, username in rows:
        children.setdefault(comment.parent_id, []).append(CommentView(comment, username))

    def has_visible(view: CommentView) -> bool:
        return not view.comment.deleted or any(has_visible(c) for c in children.get(view.id, []))

    ordered: list[CommentView] = []

    def walk(parent: int | None) -> None:
        for view in children.get(parent, []):
            if has_visible(view):
                ordered.append(view)
                walk(view.id)

    walk(None)
    return ordered


def comment_depths(views: list[CommentView]) -> dict[int, int]:
    """Nesting depth of each comment in a ``list_comments`` result (0 = top level)."""
    depth: dict[int, int] = {}
    for view in views:
        parent = view.comment.parent_id
        depth[view.id] = depth.get(parent, -1) + 1 if parent is not None else 0
    return depth
