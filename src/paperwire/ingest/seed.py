"""Parse one line of the bundled demo seed (``demo/seed_papers.jsonl``): papers as listed on a
public Daily Papers search page, with title, abstract, author count, date and upvotes but no
arXiv id or author names.

Invariant: the id is ``seed:<first 12 hex of sha1(collapsed, lower-cased title)>`` so the same
paper always gets the same id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from paperwire.ingest.items import Item, RecordError, require_str
from paperwire.ingest.records import PaperRecord
from paperwire.ingest.text import collapse


def seed_id(title: str) -> str:
    digest = hashlib.sha1(collapse(title).lower().encode("utf-8")).hexdigest()[:12]
    return f"seed:{digest}"


def parse_seed(obj: Any) -> Item:
    if not isinstance(obj, dict):
        raise RecordError(f"expected a JSON object, got {type(obj).__name__}")
    title = collapse(require_str(obj, "title"))
    try:
        published = dt.datetime.fromisoformat(str(obj["published"])) if obj.get("published") \
            else None
    except ValueError:
        raise RecordError(f"bad 'published' {obj.get('published')!r}") from None
    n_authors = obj.get("n_authors", 0)
    upvotes = obj.get("upvotes", 0)
    for key, value in (("n_authors", n_authors), ("upvotes", upvotes)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise RecordError(f"bad {key!r} {value!r}")
    return Item(PaperRecord(id=seed_id(title), source="seed", title=title,
                            abstract=collapse(obj.get("abstract")), authors=[],
                            author_count=n_authors, published_at=published,
                            updated_at=published, imported_upvotes=upvotes))
