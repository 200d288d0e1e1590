"""Paperwire's own JSONL export: one paper per line, lossless for ``PaperRecord`` and the
paper's feed entry.

Invariants:
- ``dump_line`` writes the METADATA_FIELDS in their fixed order, then ``imported_upvotes`` and
  ``feed`` (``null`` or ``{day, submitted_by, submitted_at}``), compact, non-ASCII kept as is.
- ``parse_export(json.loads(dump_line(r, f)))`` gives back ``(r, f)`` exactly, so
  export -> import into an empty database -> export is byte-identical.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from paperwire.ingest.items import FeedInfo, Item, RecordError, require_str
from paperwire.ingest.records import METADATA_FIELDS, PaperRecord

_DATETIME_FIELDS = ("published_at", "updated_at")
_STR_FIELDS = ("comments", "journal_ref", "doi", "license", "abs_url", "pdf_url",
               "primary_category")


def to_export_dict(record: PaperRecord, feed: FeedInfo | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in METADATA_FIELDS:
        value = getattr(record, name)
        if isinstance(value, dt.datetime):
            value = value.isoformat()
        out[name] = value
    out["imported_upvotes"] = record.imported_upvotes or 0
    out["feed"] = None if feed is None else {
        "day": feed.day.isoformat(),
        "submitted_by": feed.submitted_by_name,
        "submitted_at": feed.submitted_at.isoformat() if feed.submitted_at else None,
    }
    return out


def dump_line(record: PaperRecord, feed: FeedInfo | None) -> str:
    return json.dumps(to_export_dict(record, feed), ensure_ascii=False,
                      separators=(",", ":")) + "\n"


def parse_export(obj: Any) -> Item:
    if not isinstance(obj, dict):
        raise RecordError(f"expected a JSON object, got {type(obj).__name__}")
    values: dict[str, Any] = {}
    values["id"] = require_str(obj, "id")
    if len(values["id"]) > 64:
        raise RecordError("id too long")
    values["title"] = obj.get("title") if isinstance(obj.get("title"), str) else None
    if values["title"] is None:
        raise RecordError("missing 'title'")
    values["source"] = obj.get("source") or "arxiv"
    values["abstract"] = obj.get("abstract") or ""
    for name in _STR_FIELDS:
        value = obj.get(name)
        if value is not None and not isinstance(value, str):
            raise RecordError(f"{name!r} must be a string or null")
        values[name] = value
    for name in ("authors", "categories", "versions"):
        value = obj.get(name) or []
        if not isinstance(value, list):
            raise RecordError(f"{name!r} must be a list")
        values[name] = value
    for name in ("version", "author_count"):
        value = obj.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise RecordError(f"{name!r} must be an integer or null")
        values[name] = value
    for name in _DATETIME_FIELDS:
        raw = obj.get(name)
        try:
            values[name] = dt.datetime.fromisoformat(raw) if raw else None
        except (TypeError, ValueError):
            raise RecordError(f"bad {name!r} {raw!r}") from None
    upvotes = obj.get("imported_upvotes", 0)
    if not isinstance(upvotes, int) or isinstance(upvotes, bool) or upvotes < 0:
        raise RecordError(f"bad 'imported_upvotes' {upvotes!r}")
    record = PaperRecord(imported_upvotes=upvotes, **values)
    feed = None
    raw_feed = obj.get("feed")
    if raw_feed is not None:
        if not isinstance(raw_feed, dict):
            raise RecordError("'feed' must be an object or null")
        try:
            feed = FeedInfo(
                day=dt.date.fromisoformat(raw_feed["day"]),
                submitted_by_name=raw_feed.get("submitted_by"),
                submitted_at=(dt.datetime.fromisoformat(raw_feed["submitted_at"])
                              if raw_feed.get("submitted_at") else None))
        except (KeyError, TypeError, ValueError):
            raise RecordError(f"bad 'feed' {raw_feed!r}") from None
    return Item(record, feed)
