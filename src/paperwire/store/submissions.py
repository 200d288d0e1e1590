"""Putting a paper on the feed on behalf of a user: the race-safe insert behind "submit".

Invariant: ``insert_submission`` is one ``INSERT ... ON CONFLICT (paper_id) DO NOTHING``, so
of two racing submissions of a paper exactly one creates the feed entry, on PostgreSQL and on
SQLite alike. On SQLite the INSERT is also the first write of the transaction: it takes the
database's write lock before anything is read inside the transaction, so the quota count that
follows it sees every committed submission (no stale read snapshot to upgrade from).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from paperwire.store.dialect import upsert
from paperwire.store.models import FeedEntry


def insert_submission(
    session: Session, paper_id: str, day: dt.date, user_id: int, at: dt.datetime
) -> FeedEntry | None:
    """The new feed entry, or None when the paper is on the feed already."""
    stmt = (
        upsert(session, FeedEntry, ["paper_id"])
        .values(paper_id=paper_id, day=day, submitted_by=user_id, submitted_at=at)
        .returning(FeedEntry.id)
    )
    new_id = session.execute(stmt).scalar()
    if new_id is None:
        return None
    return session.scalar(select(FeedEntry).where(FeedEntry.id == new_id))


def feed_entry_of(session: Session, paper_id: str) -> FeedEntry | None:
    return session.scalar(select(FeedEntry).where(FeedEntry.paper_id == paper_id))
