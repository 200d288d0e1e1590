"""What a parser yields: a PaperRecord plus, for feed dumps, its place on the daily feed."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from paperwire.records import PaperRecord

log = logging.getLogger(__name__)

# What ingest is given to announce papers it added or changed, called with their ids after
# the transaction committed. Ingest imports nothing above the store: the entry points (CLI,
# jobs, services) pass search's announcer (search/notify.py) so new papers are searchable at
# once. Without one nothing is announced and the indexes catch up from papers.modified_at.
PapersChanged = Callable[[Sequence[str]], None]


class RecordError(ValueError):
    """One input record cannot be used; the message says why (the importer adds FILE:LINE)."""


@dataclass
class FeedInfo:
    day: dt.date
    submitted_by_name: str | None = None
    submitted_at: dt.datetime | None = None


@dataclass
class Item:
    record: PaperRecord
    feed: FeedInfo | None = None


def announce(on_change: PapersChanged | None, paper_ids: Sequence[str]) -> None:
    """Call ``on_change`` with ``paper_ids`` (when both are given); never raises, since a
    failed announcement only delays what the indexes pick up from ``modified_at`` anyway."""
    if on_change is None or not paper_ids:
        return
    try:
        on_change(list(paper_ids))
    except Exception:  # noqa: BLE001 - search catches up from modified_at anyway
        log.exception(
            "announcing %d changed papers failed; indexes will catch up later", len(paper_ids)
        )


def require_str(obj: dict, key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RecordError(f"{key}: missing or empty")
    return value
