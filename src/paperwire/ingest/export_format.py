"""Paperwire's own JSONL export: one paper per line, lossless for ``PaperRecord`` and the
paper's feed entry.

Invariants:
- ``dump_line`` writes the METADATA_FIELDS in their fixed order, then ``imported_upvotes`` and
  ``feed`` (``null`` or ``{day, submitted_by, submitted_at}``), compact, non-ASCII kept as is.
- ``parse_export(json.loads(dump_line(r, f)))`` gives back ``(r, f)`` exactly (except that
  ``imported_upvotes`` 0, "no source brought votes", comes back as None, "leave the stored
  count", and dumps as 0 again), so export -> import into an empty database -> export is
  byte-identical.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from paperwire.ingest.items import FeedInfo, Item, RecordError, require_str
from paperwire.ingest.schema import checked, input_shape, shape, validate_input
from paperwire.records import METADATA_FIELDS, PaperRecord

_DATETIME_FIELDS = ("published_at", "updated_at")
_Str = str | None
# The JSON types of an export line; the values are checked by the record schema.
_INPUT = input_shape(
    "ExportRecord",
    {
        "id": str,
        "source": _Str,
        "version": int | None,
        "title": str,
        "abstract": _Str,
        "authors": list[Any] | None,
        "author_count": int | None,
        "primary_category": _Str,
        "categories": list[Any] | None,
        "published_at": _Str,
        "updated_at": _Str,
        "versions": list[Any] | None,
        "comments": _Str,
        "journal_ref": _Str,
        "doi": _Str,
        "license": _Str,
        "abs_url": _Str,
        "pdf_url": _Str,
        "imported_upvotes": int | None,
        "feed": shape("ExportFeed", {"day": str, "submitted_by": _Str, "submitted_at": _Str})
        | None,
    },
)


def to_export_dict(record: PaperRecord, feed: FeedInfo | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in METADATA_FIELDS:
        value = getattr(record, name)
        if isinstance(value, dt.datetime):
            value = value.isoformat()
        out[name] = value
    out["imported_upvotes"] = record.imported_upvotes or 0
    out["feed"] = (
        None
        if feed is None
        else {
            "day": feed.day.isoformat(),
            "submitted_by": feed.submitted_by_name,
            "submitted_at": feed.submitted_at.isoformat() if feed.submitted_at else None,
        }
    )
    return out


def dump_line(record: PaperRecord, feed: FeedInfo | None) -> str:
    return (
        json.dumps(to_export_dict(record, feed), ensure_ascii=False, separators=(",", ":")) + "\n"
    )


def parse_export(obj: Any) -> Item:
    if not isinstance(obj, dict):
        raise RecordError(f"record: expected a JSON object, got {type(obj).__name__}")
    obj = validate_input(_INPUT, obj)
    values: dict[str, Any] = {name: obj.get(name) for name in METADATA_FIELDS}
    values["id"] = require_str(obj, "id")
    if values["title"] is None:
        raise RecordError("title: missing")
    values["source"] = values["source"] or "arxiv"
    values["abstract"] = values["abstract"] or ""
    for name in ("authors", "categories", "versions"):
        values[name] = values[name] or []
    for name in _DATETIME_FIELDS:
        values[name] = _datetime(values[name], name)
    # 0 is what the export writes when no source brought votes: leave the stored count alone.
    record = PaperRecord(imported_upvotes=obj.get("imported_upvotes") or None, **values)
    feed = None
    raw_feed = obj.get("feed")
    if raw_feed is not None:
        if not raw_feed.get("day"):
            raise RecordError("feed.day: missing")
        try:
            day = dt.date.fromisoformat(raw_feed["day"])
        except ValueError:
            raise RecordError(f"feed.day: not a date: {raw_feed['day'][:40]!r}") from None
        feed = FeedInfo(
            day=day,
            submitted_by_name=raw_feed.get("submitted_by"),
            submitted_at=_datetime(raw_feed.get("submitted_at"), "feed.submitted_at"),
        )
    return checked(Item(record, feed))


def _datetime(raw: str | None, name: str) -> dt.datetime | None:
    if not raw:
        return None
    try:
        return dt.datetime.fromisoformat(raw)
    except ValueError:
        raise RecordError(f"{name}: not an ISO date-time: {raw[:40]!r}") from None
