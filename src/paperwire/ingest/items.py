"""What a parser yields: a PaperRecord plus, for feed dumps, its place on the daily feed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from paperwire.records import PaperRecord


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


def require_str(obj: dict, key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RecordError(f"{key}: missing or empty")
    return value
