"""Read queries behind the feed, paper pages and the read API.

Invariants:
- Hidden papers never appear in feed listings (``include_hidden`` is for admins' pages).
- Every listing is a constant number of statements whatever its length (no N+1): papers,
  entries and submitter names come from one joined SELECT.
- Feed order within a period: upvotes, then most recently submitted, then paper id, so
  pages are stable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from paperwire.store.models import Comment, FeedEntry, Paper, Upvote, User

# A SELECT of any columns, kept as its own type through the filters.
_Q = TypeVar("_Q", bound="Select[*tuple[Any, ...]]")


@dataclass
class FeedRow:
    paper: Paper
    entry: FeedEntry
    submitter: str | None  # local username, or the imported submitter's name


def _submitter(entry: FeedEntry, username: str | None) -> str | None:
    return username or entry.submitted_by_name


def _period(stmt: _Q, start: dt.date | None, end: dt.date | None) -> _Q:
    if start is not None:
        stmt = stmt.where(FeedEntry.day >= start)
    if end is not None:
        stmt = stmt.where(FeedEntry.day <= end)
    return stmt


def _has(stmt: _Q, has: str | None) -> _Q:
    if has:
        from paperwire.store.links import has_kind

        stmt = stmt.where(has_kind(Paper.id, has))
    return stmt


def feed_rows(
    session: Session,
    *,
    start: dt.date | None,
    end: dt.date | None,
    sort: str = "upvotes",
    limit: int = 30,
    offset: int = 0,
    has: str | None = None,
) -> list[FeedRow]:
    """Feed entries whose day is in [start, end], best first.

    ``sort``: ``upvotes`` (the feed's order) or ``published`` (newest paper first); ``has``:
    only papers with a visible link of that kind (``code``: the feed's "with code")."""
    stmt = (
        select(Paper, FeedEntry, User.username)
        .join(FeedEntry, FeedEntry.paper_id == Paper.id)
        .outerjoin(User, User.id == FeedEntry.submitted_by)
        .where(Paper.hidden.is_(False))
    )
    stmt = _has(_period(stmt, start, end), has)
    if sort == "published":
        stmt = stmt.order_by(Paper.published_at.desc().nulls_last(), Paper.id)
    else:
        stmt = stmt.order_by(Paper.upvotes.desc(), FeedEntry.submitted_at.desc(), Paper.id)
    stmt = stmt.limit(max(0, limit)).offset(max(0, offset))
    return [FeedRow(p, e, _submitter(e, u)) for p, e, u in session.execute(stmt)]


def count_feed(
    session: Session, *, start: dt.date | None, end: dt.date | None, has: str | None = None
) -> int:
    stmt = (
        select(func.count())
        .select_from(FeedEntry)
        .join(Paper, Paper.id == FeedEntry.paper_id)
        .where(Paper.hidden.is_(False))
    )
    return int(session.scalar(_has(_period(stmt, start, end), has)) or 0)


def latest_feed_day(session: Session, on_or_before: dt.date | None = None) -> dt.date | None:
    """The most recent day (not after ``on_or_before``) that has a visible feed entry."""
    stmt = (
        select(func.max(FeedEntry.day))
        .join(Paper, Paper.id == FeedEntry.paper_id)
        .where(Paper.hidden.is_(False))
    )
    if on_or_before is not None:
        stmt = stmt.where(FeedEntry.day <= on_or_before)
    return session.scalar(stmt)


def adjacent_feed_days(session: Session, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """(previous, next) days around ``day`` that have feed entries; None at either end."""
    prev_day = session.scalar(select(func.max(FeedEntry.day)).where(FeedEntry.day < day))
    next_day = session.scalar(select(func.min(FeedEntry.day)).where(FeedEntry.day > day))
    return prev_day, next_day


# Built once: constructing this joined select costs as much CPU as running it (every cold
# paper page runs it); the bound parameter keeps SQLAlchemy's compiled-statement cache hot.
_PAPER_WITH_ENTRY = (
    select(Paper, FeedEntry, User.username)
    .outerjoin(FeedEntry, FeedEntry.paper_id == Paper.id)
    .outerjoin(User, User.id == FeedEntry.submitted_by)
    .where(Paper.id == bindparam("paper_id"))
)


def paper_with_entry(
    session: Session, paper_id: str
) -> tuple[Paper, FeedEntry | None, str | None] | None:
    """A paper with its feed entry (if any) and submitter name, in one statement."""
    row = session.execute(_PAPER_WITH_ENTRY, {"paper_id": paper_id}).first()
    if row is None:
        return None
    paper, entry, username = row
    return paper, entry, (_submitter(entry, username) if entry is not None else None)


def feed_entry_for(session: Session, paper_id: str) -> tuple[FeedEntry, str | None] | None:
    row = session.execute(
        select(FeedEntry, User.username)
        .outerjoin(User, User.id == FeedEntry.submitted_by)
        .where(FeedEntry.paper_id == paper_id)
    ).first()
    if row is None:
        return None
    return row[0], _submitter(row[0], row[1])


def feed_entries_for(
    session: Session, paper_ids: Sequence[str]
) -> dict[str, tuple[FeedEntry, str | None]]:
    if not paper_ids:
        return {}
    rows = session.execute(
        select(FeedEntry, User.username)
        .outerjoin(User, User.id == FeedEntry.submitted_by)
        .where(FeedEntry.paper_id.in_(list(paper_ids)))
    )
    return {e.paper_id: (e, _submitter(e, u)) for e, u in rows}


def user_upvoted(session: Session, user_id: int | None, paper_ids: Sequence[str]) -> set[str]:
    """Which of ``paper_ids`` the user has upvoted (one statement)."""
    if user_id is None or not paper_ids:
        return set()
    rows = session.scalars(
        select(Upvote.paper_id).where(
            Upvote.user_id == user_id, Upvote.paper_id.in_(list(paper_ids))
        )
    )
    return set(rows)


@dataclass
class CommentRow:
    comment: Comment
    username: str | None


def paper_comments(
    session: Session, paper_id: str, *, include_deleted: bool = False, limit: int = 500
) -> list[CommentRow]:
    """Comments of a paper, oldest first, with their authors' usernames."""
    stmt = (
        select(Comment, User.username)
        .outerjoin(User, User.id == Comment.user_id)
        .where(Comment.paper_id == paper_id)
    )
    if not include_deleted:
        stmt = stmt.where(Comment.deleted.is_(False))
    stmt = stmt.order_by(Comment.created_at, Comment.id).limit(limit)
    return [CommentRow(c, u) for c, u in session.execute(stmt)]
