"""Daily-feed entries: which paper is on which day's feed, and who put it there."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from paperwire.store.models import FeedEntry, Paper, utcnow


def add_feed_entry(
    session: Session,
    paper_id: str,
    day: dt.date,
    *,
    submitted_by: int | None = None,
    submitted_by_name: str | None = None,
    submitted_at: dt.datetime | None = None,
) -> tuple[FeedEntry, bool]:
    """Put a paper on a day's feed unless it is on the feed already.

    Returns (entry, created). A paper is on the feed once; the existing entry is returned
    unchanged when it is already there, so importing a dump twice creates nothing new.
    """
    existing = session.scalar(select(FeedEntry).where(FeedEntry.paper_id == paper_id))
    if existing is not None:
        return existing, False
    entry = FeedEntry(
        paper_id=paper_id,
        day=day,
        submitted_by=submitted_by,
        submitted_by_name=submitted_by_name,
        submitted_at=submitted_at or utcnow(),
    )
    session.add(entry)
    session.flush()
    return entry, True


def trending(
    session: Session,
    *,
    start: dt.date | None,
    end: dt.date | None,
    now: dt.datetime,
    limit: int,
    offset: int = 0,
    gravity: float | None = None,
    has: str | None = None,
) -> list[tuple[Paper, FeedEntry, float]]:
    """Feed papers whose feed day is in [start, end] (either bound may be None), best
    trending score first, as (paper, entry, score) triples.

    Age is measured from the entry's ``submitted_at`` to ``now`` (naive UTC). Hidden papers
    are left out. Ties are broken by paper id so pages never overlap or skip. ``has``: only
    papers with a visible link of that kind.

    Two statements whatever the number of entries: a narrow scan of the counts needed for
    the score (computed in Python, because SQLite has no portable ``pow``), then the full rows
    of the requested page only.
    """
    from paperwire.rank.trending import DEFAULT_GRAVITY, trending_score

    g = DEFAULT_GRAVITY if gravity is None else gravity
    if limit <= 0:
        return []
    stmt = (
        select(FeedEntry.id, FeedEntry.submitted_at, Paper.upvotes, Paper.num_comments, Paper.id)
        .join(Paper, Paper.id == FeedEntry.paper_id)
        .where(Paper.hidden.is_(False))
    )
    if start is not None:
        stmt = stmt.where(FeedEntry.day >= start)
    if end is not None:
        stmt = stmt.where(FeedEntry.day <= end)
    if has:
        from paperwire.store.links import has_kind

        stmt = stmt.where(has_kind(Paper.id, has))
    scored = []
    for entry_id, submitted_at, upvotes, num_comments, paper_id in session.execute(stmt):
        age_hours = (now - submitted_at).total_seconds() / 3600.0
        scored.append(
            (trending_score(upvotes, num_comments, age_hours, gravity=g), paper_id, entry_id)
        )
    scored.sort(key=lambda row: (-row[0], row[1]))
    page = scored[max(0, offset) : max(0, offset) + limit]
    if not page:
        return []
    ids = [entry_id for _, _, entry_id in page]
    rows = session.execute(
        select(Paper, FeedEntry)
        .join(FeedEntry, FeedEntry.paper_id == Paper.id)
        .where(FeedEntry.id.in_(ids))
    )
    by_entry = {entry.id: (paper, entry) for paper, entry in rows}
    return [(*by_entry[entry_id], score) for score, _, entry_id in page if entry_id in by_entry]
