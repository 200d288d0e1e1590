"""Moderation: hiding a paper from the feed (and lists, search) or showing it again.

Invariant: changing ``hidden`` bumps ``modified_at``, which the search indexes follow, so a
hidden paper leaves search results too. Hiding keeps every vote, comment and feed entry:
unhiding restores the paper exactly as it was.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from paperwire.errors import NotFound
from paperwire.store.models import Paper, utcnow


def set_hidden(session: Session, paper_id: str, hidden: bool) -> bool:
    """Set a paper's visibility; returns whether it changed. Unknown id: ``NotFound``."""
    paper = session.get(Paper, paper_id)
    if paper is None:
        raise NotFound(f"no paper with id {paper_id}")
    if bool(paper.hidden) == hidden:
        return False
    session.execute(
        update(Paper)
        .where(Paper.id == paper_id)
        .values(hidden=hidden, modified_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.refresh(paper)
    return True
