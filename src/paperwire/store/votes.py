"""Upvotes: one per user and paper, with ``papers.upvotes`` kept in step.

Invariants:
- ``Paper.upvotes == Paper.imported_upvotes + count(Upvote rows of the paper)`` after every
  function here commits: the vote row and the counter change in the same transaction, and the
  counter moves only when a row was really inserted or deleted (rowcount), so voting twice
  counts once and removing a vote that is not there changes nothing.
- Concurrency-safe on PostgreSQL as well as SQLite: the insert is ``INSERT ... ON CONFLICT DO
  NOTHING`` on the (user_id, paper_id) primary key, so two racing requests of one user insert
  one row and only the winner bumps the counter; the counter update is a relative
  ``upvotes = upvotes + 1`` that PostgreSQL serializes on the row lock.
- A function only ever touches the vote of the user it is given: no function here can remove
  another user's vote.
- A hidden paper gets no new votes: it is gone from every list, so a vote on it could only
  come from a client that remembered its id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from paperwire.errors import NotFound
from paperwire.store.db import rowcount
from paperwire.store.dialect import upsert
from paperwire.store.models import Paper, Upvote, utcnow


@dataclass(frozen=True)
class VoteResult:
    paper_id: str
    upvoted: bool  # the user's vote exists after the call
    changed: bool  # the call inserted or deleted a vote
    upvotes: int  # the paper's count after the call


def _count(session: Session, paper_id: str) -> int:
    return session.scalar(select(Paper.upvotes).where(Paper.id == paper_id)) or 0


def _require_paper(session: Session, paper_id: str, *, visible: bool = False) -> None:
    hidden = session.scalar(select(Paper.hidden).where(Paper.id == paper_id))
    if hidden is None or (visible and hidden):
        raise NotFound(f"no paper with id {paper_id}")


def add_vote(session: Session, user_id: int, paper_id: str) -> VoteResult:
    """Upvote; a second call for the same user and paper changes nothing. A hidden paper
    takes no new votes (NotFound, as for a missing one); withdrawing one stays possible."""
    _require_paper(session, paper_id, visible=True)
    stmt = (
        upsert(session, Upvote, ["user_id", "paper_id"])
        .values(user_id=user_id, paper_id=paper_id, created_at=utcnow())
        .returning(Upvote.user_id)
    )
    # RETURNING, not rowcount: the driver's rowcount for INSERT ... ON CONFLICT is not
    # reliable across drivers; a returned row is exactly "this call inserted the vote".
    inserted = session.execute(stmt).first() is not None
    if inserted:
        session.execute(update(Paper).where(Paper.id == paper_id).values(upvotes=Paper.upvotes + 1))
    return VoteResult(paper_id, True, inserted, _count(session, paper_id))


def remove_vote(session: Session, user_id: int, paper_id: str) -> VoteResult:
    """Withdraw the user's own vote; without one, nothing changes."""
    _require_paper(session, paper_id)
    deleted = (
        rowcount(
            session.execute(
                delete(Upvote).where(Upvote.user_id == user_id, Upvote.paper_id == paper_id)
            )
        )
        == 1
    )
    if deleted:
        session.execute(update(Paper).where(Paper.id == paper_id).values(upvotes=Paper.upvotes - 1))
    return VoteResult(paper_id, False, deleted, _count(session, paper_id))


def toggle_vote(session: Session, user_id: int, paper_id: str) -> VoteResult:
    """Remove the user's vote if there is one, else add it.

    Delete-first keeps it race-free: if the delete removed nothing, the insert either adds the
    vote or (when a concurrent request added it meanwhile) leaves the one that is there.
    """
    removed = remove_vote(session, user_id, paper_id)
    if removed.changed:
        return removed
    return add_vote(session, user_id, paper_id)


def set_vote(session: Session, user_id: int, paper_id: str, upvoted: bool) -> VoteResult:
    """Idempotent form of toggle: make the user's vote exist (or not)."""
    return (
        add_vote(session, user_id, paper_id) if upvoted else remove_vote(session, user_id, paper_id)
    )


def has_voted(session: Session, user_id: int, paper_id: str) -> bool:
    return (
        session.scalar(
            select(Upvote.paper_id).where(Upvote.user_id == user_id, Upvote.paper_id == paper_id)
        )
        is not None
    )


def voted_paper_ids(session: Session, user_id: int | None, paper_ids: Iterable[str]) -> set[str]:
    """Which of ``paper_ids`` the user has upvoted (one query; for feed and search cards)."""
    ids = list(dict.fromkeys(paper_ids))
    if user_id is None or not ids:
        return set()
    found: set[str] = set()
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        found.update(
            session.scalars(
                select(Upvote.paper_id).where(Upvote.user_id == user_id, Upvote.paper_id.in_(chunk))
            )
        )
    return found


def recount_upvotes(session: Session, paper_id: str) -> int:
    """Recompute a paper's counter from its vote rows (repair tool; also used by tests)."""
    votes = (
        session.scalar(select(func.count()).select_from(Upvote).where(Upvote.paper_id == paper_id))
        or 0
    )
    session.execute(
        update(Paper).where(Paper.id == paper_id).values(upvotes=Paper.imported_upvotes + votes)
    )
    return _count(session, paper_id)
