"""Demo data for a fresh install: the 55 seed papers (from a public Daily Papers page) on the
feed of the last seven days, plus 200 real arXiv records for search.

Invariants:
- Loads only into an empty ``papers`` table and returns whether it did; a second call (or a
  second process racing the first) changes nothing.
- The seed papers keep their upvotes and are spread over the seven days ending today (in
  ``settings.timezone``), so the front page of a new install is populated.
"""

from __future__ import annotations

import datetime as dt
import logging
from importlib import resources
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from paperwire.ingest.importer import import_file
from paperwire.ingest.seed import parse_seed
from paperwire.store.feed import add_feed_entry
from paperwire.store.papers import count_papers

log = logging.getLogger(__name__)

DEMO_FILES = (("arxiv_sample.jsonl", "kaggle"), ("seed_papers.jsonl", "seed"))
FEED_DAYS = 7
SUBMITTER = "paperwire-demo"


def _silent(_message: str) -> None:
    pass


def load_demo_if_empty(settings, db) -> bool:
    with db.session() as session:
        if count_papers(session):
            return False
    package = resources.files("paperwire") / "demo"
    try:
        for name, fmt in DEMO_FILES:
            with resources.as_file(package / name) as path:
                summary = import_file(settings, db, path, fmt, progress=False,
                                      on_error=log.warning, resume=False)
            log.info("demo data %s: %s", name, summary.line())
        _put_seed_on_feed(settings, db, package / "seed_papers.jsonl")
    except IntegrityError:
        # Another process loaded the demo at the same moment; its data is what we wanted.
        log.info("demo data was loaded by another process")
        return False
    return True


def _put_seed_on_feed(settings, db, seed_file) -> None:
    import json

    tz = ZoneInfo(settings.timezone)
    now_local = dt.datetime.now(tz)
    today = now_local.date()
    now_utc = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    lines = [line for line in seed_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    with db.session() as session:
        for i, line in enumerate(lines):
            record = parse_seed(json.loads(line)).record
            day = today - dt.timedelta(days=i % FEED_DAYS)
            # Spread submissions over the morning of their day, never in the future.
            local = dt.datetime.combine(day, dt.time(7, 0), tz) + dt.timedelta(minutes=7 * i)
            submitted = min(local.astimezone(dt.timezone.utc).replace(tzinfo=None), now_utc)
            add_feed_entry(session, record.id, day, submitted_by_name=SUBMITTER,
                           submitted_at=submitted)
