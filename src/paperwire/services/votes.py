"""Upvotes as actions: a member casts, withdraws or toggles their own vote, never another's."""

from __future__ import annotations

from paperwire.store import votes
from paperwire.store.db import Database
from paperwire.store.models import User

VoteResult = votes.VoteResult


def vote(db: Database, user: User, paper_id: str, upvoted: bool | None) -> votes.VoteResult:
    """Set ``user``'s vote on a paper (``upvoted``), or toggle it when None."""
    with db.session() as session:
        if upvoted is None:
            return votes.toggle_vote(session, user.id, paper_id)
        if upvoted:
            return votes.add_vote(session, user.id, paper_id)
        return votes.remove_vote(session, user.id, paper_id)
