"""Shared set-up for digest tests: a day with papers on the feed, an SMTP sink, settings."""

from __future__ import annotations

import dataclasses
import datetime as dt

from paperwire.digest.edition import edition_for
from tests.factories import make_papers, put_on_feed

SEND_DAY = dt.date(2026, 11, 26)  # a Thursday: the daily edition covers the 25th
FEED_DAY = dt.date(2026, 11, 25)


def daily(day: dt.date = SEND_DAY):
    return edition_for("daily", day)


def mail_settings(settings, sink, **kw):
    values = dict(
        smtp_url=sink.smtp_url,
        mail_from="Paperwire <news@paperwire.test>",
        mail_reply_to="editors@paperwire.test",
        digest_retry_backoff_seconds=0.01,
        base_url="https://paperwire.test",
    )
    values.update(kw)
    return dataclasses.replace(settings, **values)


def seed_day(db, day: dt.date = FEED_DAY, n: int = 6):
    """n papers published and on the feed that day, plus 3 q-bio single-cell papers."""
    at = dt.datetime.combine(day, dt.time(10))
    feed = make_papers(db, n, published_at=at, categories=["cs.LG"])
    cells = make_papers(
        db, 3, published_at=at, categories=["q-bio.GN"], title="A single-cell atlas of the lung"
    )
    put_on_feed(db, [r.id for r in feed], day)
    return feed, cells
