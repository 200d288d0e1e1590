"""Demo data for a fresh install: the 55 seed papers (from a public Daily Papers page,
resolved to their arXiv records) on the feed of the last seven days, plus 200 real arXiv
records for search.

Invariants:
- The demo goes only into a database that had no papers when it was first tried; a
  ``demo`` checkpoint records that it began and, in the transaction of its last step, that
  it finished. A load interrupted anywhere (Ctrl+C, SIGTERM, kill -9) is finished by the next
  call; every step is idempotent (an import of the same records changes nothing, a paper is
  on the feed once), so the demo papers and their feed entries exist exactly once.
- The seed papers keep their upvotes and are spread over the seven days ending today (in
  ``settings.timezone``), so the front page of a new install is populated. They go first:
  the feed is there before the 200 search-only records are imported.
- A seed line's ``code_url`` becomes a ``demo`` link of its paper (``demo_links``; the
  backfill adds them to a demo loaded before links existed).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from importlib import resources
from zoneinfo import ZoneInfo

from paperwire.ingest.importer import import_file
from paperwire.ingest.items import PapersChanged
from paperwire.ingest.seed import parse_seed
from paperwire.records.links import Link, classify, normalize_url
from paperwire.store.checkpoints import get_checkpoint, save_checkpoint
from paperwire.store.errors import IntegrityError, OperationalError
from paperwire.store.feed import add_feed_entry
from paperwire.store.links import put_links
from paperwire.store.papers import count_papers

log = logging.getLogger(__name__)

SEED_FILE = "seed_papers.jsonl"
ARXIV_FILE = "arxiv_sample.jsonl"
CHECKPOINT = "demo"
FEED_DAYS = 7
SUBMITTER = "paperwire-demo"


def demo_file(name: str):
    """A file of the packaged demo data (a Traversable)."""
    return resources.files("paperwire") / "demo" / name


def load_demo_if_empty(settings, db, on_change: PapersChanged | None = None) -> bool:
    """Load (or finish loading) the demo data; True when this call did work. ``on_change``:
    as for ``import_file``."""
    if not _claim(db):
        return False
    try:
        _import(settings, db, SEED_FILE, "seed", on_change=on_change)
        _put_seed_on_feed(settings, db)
        _import(settings, db, ARXIV_FILE, "kaggle", on_change=on_change)
        with db.session() as session:
            save_checkpoint(session, CHECKPOINT, {"done": True})
    except IntegrityError:
        # Another process loaded the same rows at the same moment; its data is what we wanted.
        log.info("demo data was loaded by another process")
        return False
    return True


def _claim(db) -> bool:
    """Whether the demo is to be loaded (or finished) now; records that it began."""
    try:
        with db.session() as session:
            state = get_checkpoint(session, CHECKPOINT)
            if state is not None:
                if state.get("done"):
                    return False
                log.info("finishing the demo data load an earlier start began")
                return True
            if count_papers(session):
                return False  # the operator's own papers: never mixed with the demo
            save_checkpoint(session, CHECKPOINT, {"done": False})
    except (IntegrityError, OperationalError):
        # Another process began the demo at this moment; it finishes it (or, should it die,
        # the next start does).
        log.info("the demo data is being loaded by another process")
        return False
    return True


def _import(settings, db, name: str, fmt: str, *, on_change: PapersChanged | None = None) -> None:
    with resources.as_file(demo_file(name)) as path:
        summary = import_file(
            settings,
            db,
            path,
            fmt,
            progress=False,
            on_error=log.warning,
            resume=False,
            on_change=on_change,
        )
    log.info("demo data %s: %s", name, summary.line())


def demo_links() -> dict[str, list[Link]]:
    """The seed's ``code_url`` of each seed paper, as a link (code, or the kind its address
    says: a github.io page is a project page)."""
    out: dict[str, list[Link]] = {}
    for line in demo_file(SEED_FILE).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        url = (
            normalize_url(obj.get("code_url") or "")
            if isinstance(obj.get("code_url"), str)
            else None
        )
        if url:
            out[parse_seed(obj).record.id] = [Link(url, classify(url) or "project")]
    return out


def _put_seed_on_feed(settings, db) -> None:
    tz = ZoneInfo(settings.timezone)
    today = dt.datetime.now(tz).date()
    now_utc = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    lines = [
        line
        for line in demo_file(SEED_FILE).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    with db.session() as session:
        for i, line in enumerate(lines):
            record = parse_seed(json.loads(line)).record
            day = today - dt.timedelta(days=i % FEED_DAYS)
            # Spread submissions over the morning of their day, never in the future.
            local = dt.datetime.combine(day, dt.time(7, 0), tz) + dt.timedelta(minutes=7 * i)
            submitted = min(local.astimezone(dt.UTC).replace(tzinfo=None), now_utc)
            add_feed_entry(
                session, record.id, day, submitted_by_name=SUBMITTER, submitted_at=submitted
            )
        put_links(session, demo_links(), "demo")
