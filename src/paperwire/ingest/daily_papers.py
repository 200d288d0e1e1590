"""Parse one item of the public Daily Papers API (``/api/daily_papers``) into a paper and its
place on the daily feed.

An item is ``{paper: {id, title, summary, authors: [{name}], publishedAt, upvotes, ...},
submittedOnDailyAt, submittedBy, numComments, ...}``; ``submittedOnDailyAt`` may also sit
inside ``paper`` (both forms are in the wild).

Invariants:
- The paper id is the arXiv id (without version) when the item's id is one, otherwise
  ``hf:<id>``.
- ``imported_upvotes`` is the item's upvote count; the feed day is the UTC date of
  ``submittedOnDailyAt`` (falling back to ``publishedAt``).
- ``numComments`` is not imported: ``Paper.num_comments`` counts comments stored here.
"""

from __future__ import annotations

from typing import Any

from paperwire.errors import BadInput
from paperwire.ingest.arxiv_ids import abs_url, normalize_arxiv_id, pdf_url
from paperwire.ingest.items import FeedInfo, Item, RecordError
from paperwire.ingest.records import PaperRecord
from paperwire.ingest.text import collapse, parse_iso


def parse_daily_item(obj: Any) -> Item:
    if not isinstance(obj, dict):
        raise RecordError(f"expected a JSON object, got {type(obj).__name__}")
    paper = obj.get("paper")
    if not isinstance(paper, dict):
        raise RecordError("missing 'paper' object")
    raw_id = str(paper.get("id") or "").strip()
    if not raw_id:
        raise RecordError("missing 'paper.id'")
    try:
        pid, _ = normalize_arxiv_id(raw_id)
        source, links = "arxiv", (abs_url(pid), pdf_url(pid))
    except BadInput:
        pid, source, links = f"hf:{raw_id}", "hf-daily", (None, None)
    if len(pid) > 64:
        raise RecordError(f"paper id too long ({len(pid)} characters)")
    title = collapse(paper.get("title") or obj.get("title"))
    if not title:
        raise RecordError("missing 'paper.title'")
    authors = []
    for author in paper.get("authors") or []:
        name = collapse(author.get("name") if isinstance(author, dict) else str(author))
        if name:
            authors.append({"name": name, "affiliations": []})
    try:
        published = parse_iso(paper.get("publishedAt") or obj.get("publishedAt"))
        submitted = parse_iso(obj.get("submittedOnDailyAt") or paper.get("submittedOnDailyAt"))
    except ValueError as exc:
        raise RecordError(str(exc)) from None
    upvotes = paper.get("upvotes", 0)
    if not isinstance(upvotes, int) or isinstance(upvotes, bool) or upvotes < 0:
        raise RecordError(f"bad 'paper.upvotes' {upvotes!r}")
    record = PaperRecord(
        id=pid, source=source, title=title,
        abstract=collapse(paper.get("summary") or obj.get("summary")),
        authors=authors, published_at=published, updated_at=published,
        abs_url=links[0], pdf_url=links[1], imported_upvotes=upvotes,
    )
    when = submitted or published
    feed = None
    if when is not None:
        feed = FeedInfo(day=when.date(), submitted_by_name=_submitter(obj.get("submittedBy")),
                        submitted_at=when)
    return Item(record, feed)


def _submitter(value: Any) -> str | None:
    if isinstance(value, dict):
        name = value.get("fullname") or value.get("name")
        return collapse(str(name))[:128] or None if name else None
    if isinstance(value, str):
        return collapse(value)[:128] or None
    return None
