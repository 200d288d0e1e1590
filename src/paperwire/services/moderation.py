"""Moderating papers: hiding one from every list, and showing it again (administrators).

Invariant: only administrators hide or show papers; search drops hidden papers at query
time (and follows ``modified_at``), so no index work is needed here.
"""

from __future__ import annotations

from paperwire.services.discussion import NotAllowed
from paperwire.store import moderation
from paperwire.store.db import Database
from paperwire.store.models import User


def set_hidden(db: Database, user: User, paper_id: str, hidden: bool) -> bool:
    """Hide (or show) a paper; True when that changed something."""
    if not user.is_admin:
        raise NotAllowed("only administrators can moderate")
    with db.session() as session:
        return moderation.set_hidden(session, paper_id, hidden)
