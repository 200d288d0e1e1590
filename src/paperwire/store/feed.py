"""Daily-feed entries: which paper is on which day's feed, and who put it there."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from paperwire.store.models import FeedEntry, utcnow


def add_feed_entry(session: Session, paper_id: str, day: dt.date, *,
                   submitted_by: int | None = None, submitted_by_name: str | None = None,
                   submitted_at: dt.datetime | None = None) -> tuple[FeedEntry, bool]:
    """Put a paper on a day's feed unless it is on the feed already.

    Returns (entry, created). A paper is on the feed once; the existing entry is returned
    unchanged when it is already there, so importing a dump twice creates nothing new.
    """
    existing = session.scalar(select(FeedEntry).where(FeedEntry.paper_id == paper_id))
    if existing is not None:
        return existing, False
    entry = FeedEntry(paper_id=paper_id, day=day, submitted_by=submitted_by,
                      submitted_by_name=submitted_by_name,
                      submitted_at=submitted_at or utcnow())
    session.add(entry)
    session.flush()
    return entry, True
