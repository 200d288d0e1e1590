"""Parse one record of the public arXiv metadata snapshot (Kaggle ``arxiv-metadata-oai-snapshot``).

Invariants:
- ``authors_parsed`` entries are ``[last, first, suffix, affiliation...]``; authors keep their
  order, affiliations are the elements after the third.
- ``published_at`` is v1's date, ``updated_at`` the latest version's, ``version`` its number.
- Title, abstract and comments have their whitespace collapsed; LaTeX is kept as written.
- Pure: a malformed record raises ``RecordError`` naming the field.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from paperwire.errors import BadInput
from paperwire.ingest.arxiv_ids import abs_url, normalize_arxiv_id, pdf_url
from paperwire.ingest.items import Item, RecordError, require_str
from paperwire.ingest.schema import checked, input_shape, validate_input
from paperwire.ingest.text import collapse, collapse_or_none, parse_rfc2822
from paperwire.records import PaperRecord

_AUTHOR_SPLIT = re.compile(r",\s*|\s+and\s+")

_Str = str | None
# The snapshot's JSON types (unknown keys are ignored); values are checked by the schema.
_INPUT = input_shape(
    "KaggleRecord",
    {
        "id": str,
        "title": str,
        "abstract": _Str,
        "authors": _Str,
        "authors_parsed": list[list[_Str]] | None,
        "categories": _Str,
        "comments": _Str,
        "journal-ref": _Str,
        "doi": _Str,
        "license": _Str,
        "update_date": _Str,
        "versions": list[Any] | None,
    },
)


def parse_kaggle(obj: Any) -> Item:
    if not isinstance(obj, dict):
        raise RecordError(f"record: expected a JSON object, got {type(obj).__name__}")
    obj = validate_input(_INPUT, obj)
    raw_id = require_str(obj, "id")
    try:
        pid, _ = normalize_arxiv_id(raw_id)
    except BadInput as exc:
        raise RecordError(f"id: {exc}") from None
    title = collapse(require_str(obj, "title"))
    versions, published, updated = _versions(obj.get("versions"))
    categories = (obj.get("categories") or "").split()
    if updated is None and obj.get("update_date"):
        try:
            updated = dt.datetime.fromisoformat(obj["update_date"])
        except (TypeError, ValueError):
            raise RecordError(f"update_date: not a date: {obj['update_date']!r}") from None
    get = obj.get
    record = PaperRecord(
        id=pid,
        source="arxiv",
        version=versions[-1]["version"] if versions else None,
        title=title,
        abstract=collapse(get("abstract")),
        authors=_authors(obj),
        categories=categories,
        published_at=published,
        updated_at=updated,
        versions=versions,
        comments=collapse_or_none(get("comments")),
        journal_ref=collapse_or_none(get("journal-ref")),
        doi=collapse_or_none(get("doi")),
        license=collapse_or_none(get("license")),
        abs_url=abs_url(pid),
        pdf_url=pdf_url(pid),
    )
    return checked(Item(record))


def _versions(raw: Any) -> tuple[list[dict[str, Any]], dt.datetime | None, dt.datetime | None]:
    """(versions oldest first, first version's date, latest version's date)."""
    if raw is None:
        return [], None, None
    parsed = []
    for i, entry in enumerate(raw):
        try:
            label = entry["version"]
            number = int(label[1:] if label[:1] in "vV" else label)
            created = parse_rfc2822(entry["created"])
        except (KeyError, TypeError, ValueError, AttributeError):
            raise RecordError(
                f"versions[{i}]: not a {{version, created}} entry: {str(entry)[:60]}"
            ) from None
        parsed.append((number, created))
    if not parsed:
        return [], None, None
    parsed.sort(key=lambda v: v[0])
    versions = [{"version": number, "created": created.isoformat()} for number, created in parsed]
    return versions, parsed[0][1], parsed[-1][1]


def _authors(obj: dict) -> list[dict[str, Any]]:
    parsed = obj.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        authors = []
        for i, entry in enumerate(parsed):
            if not entry:
                raise RecordError(f"authors_parsed[{i}]: empty entry")
            entry = [part or "" for part in entry]
            if len(entry) >= 3:
                last, first, suffix = entry[0], entry[1], entry[2]
            else:
                last, first, suffix = entry[0], entry[1] if len(entry) > 1 else "", ""
            if suffix:
                name = collapse(f"{first} {last} {suffix}")
            elif first:
                name = collapse(f"{first} {last}")
            else:
                name = collapse(last)
            affiliations = [collapse(a) for a in entry[3:] if a.strip()] if len(entry) > 3 else []
            if name:
                authors.append({"name": name, "affiliations": affiliations})
        return authors
    # Fall back to the free-text author list ("A. One, B. Two and C. Three").
    text = collapse(obj.get("authors"))
    return [
        {"name": name, "affiliations": []}
        for name in (n.strip() for n in _AUTHOR_SPLIT.split(text))
        if name
    ]
