"""PaperRecord: the normalized form every source is parsed into before it reaches the store.

Invariants:
- ``id`` is the stable paper id (see ``store.models.Paper``).
- ``content_hash()`` covers the metadata fields only, in a fixed order, so the same paper parsed
  from the same data always hashes the same (re-imports are recognised as unchanged).
- Datetimes are naive UTC.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

# Fields that make up a paper's metadata, in hashing order.
METADATA_FIELDS = (
    "id",
    "source",
    "version",
    "title",
    "abstract",
    "authors",
    "author_count",
    "primary_category",
    "categories",
    "published_at",
    "updated_at",
    "versions",
    "comments",
    "journal_ref",
    "doi",
    "license",
    "abs_url",
    "pdf_url",
)


@dataclass
class PaperRecord:
    id: str
    title: str
    abstract: str = ""
    source: str = "arxiv"
    version: int | None = None
    # [{"name": str, "affiliations": [str, ...]}, ...] in author order.
    authors: list[dict[str, Any]] = field(default_factory=list)
    author_count: int | None = None
    primary_category: str | None = None
    categories: list[str] = field(default_factory=list)
    published_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    # [{"version": int, "created": ISO-8601 str}, ...] oldest first.
    versions: list[dict[str, Any]] = field(default_factory=list)
    comments: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    license: str | None = None
    abs_url: str | None = None
    pdf_url: str | None = None
    # Upvotes brought along by the source (Daily Papers dumps); None: leave as stored.
    imported_upvotes: int | None = None

    def __post_init__(self) -> None:
        if self.author_count is None:
            self.author_count = len(self.authors)
        if self.primary_category is None and self.categories:
            self.primary_category = self.categories[0]

    def metadata(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in METADATA_FIELDS}

    def content_hash(self) -> str:
        # orjson gives the same bytes as json.dumps(sort_keys=True, ensure_ascii=False,
        # separators=(",", ":"), datetimes as isoformat()) at a fraction of the cost, which
        # matters when a snapshot of millions of records is hashed.
        payload = orjson.dumps(self.metadata(), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha1(payload).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
