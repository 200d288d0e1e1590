"""Reading and moderating comments: what a member may see or do with one comment or with a
paper's thread. Posting and editing (with their notifications) are in ``discussion``; this
module adds the rules the web handlers used to hold themselves. SQL stays in ``store/``.

Invariants:
- A comment is deleted by its author or by an administrator, nobody else.
- Only its author opens a comment for editing; a deleted comment cannot be edited.
- A hidden paper's comments are NotFound except for administrators (as its page).
"""

from __future__ import annotations

from dataclasses import dataclass

from paperwire.errors import NotFound
from paperwire.services.discussion import NotAllowed
from paperwire.store import comments as comment_store
from paperwire.store.db import Database
from paperwire.store.models import Comment, Paper, User
from paperwire.store.papers import get_paper


@dataclass
class CommentOnPaper:
    comment: Comment
    paper: Paper | None


def delete_comment(db: Database, user: User, comment_id: int) -> comment_store.CommentView:
    """Delete a comment as ``user`` (its author or an administrator); the view answered has
    no author name (the comment is gone)."""
    with db.session() as session:
        comment = comment_store.get_comment(session, comment_id)
        if comment is None:
            raise NotFound(f"no comment with id {comment_id}")
        if comment.user_id != user.id and not user.is_admin:
            raise NotAllowed("only the author of a comment or an administrator can delete it")
        comment_store.delete_comment(session, comment_id)
    return comment_store.CommentView(comment, None)


def comment_for_edit(db: Database, user: User, comment_id: int) -> CommentOnPaper:
    """The comment ``user`` is about to edit, with its paper (for the form's heading)."""
    with db.session() as session:
        comment = comment_store.get_comment(session, comment_id)
        if comment is None or comment.deleted:
            raise NotFound(f"no comment with id {comment_id}")
        if comment.user_id != user.id:
            raise NotAllowed("only the author of a comment can edit it")
        return CommentOnPaper(comment, get_paper(session, comment.paper_id))


def comment_with_paper(db: Database, comment_id: int) -> CommentOnPaper:
    """A comment and its paper, whoever asks (NotFound when there is no such comment)."""
    with db.session() as session:
        comment = comment_store.get_comment(session, comment_id)
        if comment is None:
            raise NotFound(f"no comment with id {comment_id}")
        return CommentOnPaper(comment, get_paper(session, comment.paper_id))


def paper_thread(db: Database, user: User | None, paper_id: str) -> list[comment_store.CommentView]:
    """A paper's comments in thread order, as ``user`` may see them."""
    with db.session() as session:
        paper = get_paper(session, paper_id)
        if paper is None or (paper.hidden and not (user is not None and user.is_admin)):
            raise NotFound(f"no paper with id {paper_id}")
        return comment_store.list_comments(session, paper_id)


def paper_to_comment_on(db: Database, paper_id: str) -> Paper:
    """The paper a comment form is about (NotFound when there is none)."""
    with db.session() as session:
        paper = get_paper(session, paper_id)
    if paper is None:
        raise NotFound(f"no paper with id {paper_id}")
    return paper
