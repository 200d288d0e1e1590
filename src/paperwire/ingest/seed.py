"""Parse one line of the bundled demo seed (``demo/seed_papers.jsonl``): papers as listed on a
public Daily Papers search page (title, abstract, author count, date, upvotes), each resolved
to its arXiv record (``arxiv_id``, ``authors`` in order, ``primary_category``,
``categories``, ``v1_date``, ``code_url``; see the shared data's README).

Invariants:
- A line with an ``arxiv_id`` becomes an arXiv paper (``source="arxiv"``, the arXiv id, abs
  and PDF links), so it is the same paper as one fetched or harvested from arXiv (submitting
  it finds it; ``cat:`` finds it). Fields the resolution could not confirm are null and stay
  empty: no category, or the page's date (``published``) when the first-version date is
  unknown; ``n_authors`` counts the authors when their names are unknown.
- A line without one keeps ``seed:<first 12 hex of sha1(collapsed, lower-cased title)>`` as
  id, so the same paper always gets the same id.
- ``code_url`` has no place in a paper record: ingest/demo.py makes it a ``demo`` link.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from paperwire.errors import BadInput
from paperwire.ingest.arxiv_ids import abs_url, normalize_arxiv_id, pdf_url
from paperwire.ingest.items import Item, RecordError, require_str
from paperwire.ingest.schema import checked, input_shape, validate_input
from paperwire.ingest.text import collapse
from paperwire.records import PaperRecord

_Str = str | None
# The seed's JSON types for the keys read here (unknown keys, e.g. code_url, are ignored).
_INPUT = input_shape(
    "SeedLine",
    {
        "title": str,
        "abstract": _Str,
        "published": _Str,
        "v1_date": _Str,
        "n_authors": int,
        "upvotes": int,
        "arxiv_id": str | None,
        "authors": list[str] | None,
        "categories": list[str] | None,
        "primary_category": _Str,
    },
)


def seed_id(title: str) -> str:
    digest = hashlib.sha1(collapse(title).lower().encode("utf-8")).hexdigest()[:12]
    return f"seed:{digest}"


def _date(obj: dict, key: str) -> dt.datetime | None:
    raw = obj.get(key)
    if not raw:
        return None
    try:
        return dt.datetime.fromisoformat(raw)
    except ValueError:
        raise RecordError(f"{key}: not an ISO date: {raw[:40]!r}") from None


def _names(obj: dict) -> list[dict[str, Any]]:
    names = obj.get("authors")
    if names is None:
        return []
    if not all(n.strip() for n in names):
        raise RecordError("authors: expected a list of non-empty names")
    return [{"name": collapse(n), "affiliations": []} for n in names]


def _categories(obj: dict) -> tuple[str | None, list[str]]:
    cats = obj.get("categories") or []
    primary = obj.get("primary_category")
    if primary and primary not in cats:
        cats = [primary, *cats]
    return primary or None, cats


def parse_seed(obj: Any) -> Item:
    if not isinstance(obj, dict):
        raise RecordError(f"record: expected a JSON object, got {type(obj).__name__}")
    obj = validate_input(_INPUT, obj)
    title = collapse(require_str(obj, "title"))
    published = _date(obj, "published")
    n_authors = obj.get("n_authors", 0)
    upvotes = obj.get("upvotes", 0)
    for key, value in (("n_authors", n_authors), ("upvotes", upvotes)):
        if value < 0:
            raise RecordError(f"{key}: must be 0 or more, got {value!r}")
    abstract = collapse(obj.get("abstract"))
    if not obj.get("arxiv_id"):
        return checked(
            Item(
                PaperRecord(
                    id=seed_id(title),
                    source="seed",
                    title=title,
                    abstract=abstract,
                    authors=[],
                    author_count=n_authors,
                    published_at=published,
                    updated_at=published,
                    imported_upvotes=upvotes,
                )
            )
        )
    try:
        pid, _ = normalize_arxiv_id(obj["arxiv_id"])
    except BadInput as exc:
        raise RecordError(f"arxiv_id: {exc}") from None
    authors = _names(obj)
    primary, categories = _categories(obj)
    v1 = _date(obj, "v1_date")
    first = v1 or published
    return checked(
        Item(
            PaperRecord(
                id=pid,
                source="arxiv",
                title=title,
                abstract=abstract,
                authors=authors,
                author_count=len(authors) or n_authors,
                primary_category=primary,
                categories=categories,
                published_at=first,
                updated_at=first,
                versions=[{"version": 1, "created": v1.isoformat()}] if v1 else [],
                abs_url=abs_url(pid),
                pdf_url=pdf_url(pid),
                imported_upvotes=upvotes,
            )
        )
    )
