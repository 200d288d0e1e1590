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
from paperwire.ingest.schema import checked, input_shape, shape, validate_input
from paperwire.ingest.text import collapse, parse_iso
from paperwire.records import PaperRecord

_Str = str | None
# The API's JSON types for the keys read here (unknown keys are ignored).
_AUTHOR = shape("DailyAuthor", {"name": _Str})
_PERSON = shape("DailySubmitter", {"name": _Str, "fullname": _Str})
_PAPER = shape(
    "DailyPaper",
    {
        "id": str | int,
        "title": _Str,
        "summary": _Str,
        "publishedAt": _Str,
        "submittedOnDailyAt": _Str,
        "upvotes": int | None,
        "authors": list[str | _AUTHOR] | None,  # type: ignore[valid-type]  # a run-time shape
    },
)
_INPUT = input_shape(
    "DailyItem",
    {
        "paper": _PAPER,
        "title": _Str,
        "summary": _Str,
        "publishedAt": _Str,
        "submittedOnDailyAt": _Str,
        "submittedBy": str | _PERSON | None,
    },
)


def parse_daily_item(obj: Any) -> Item:
    if not isinstance(obj, dict):
        raise RecordError(f"record: expected a JSON object, got {type(obj).__name__}")
    if not isinstance(obj.get("paper"), dict):
        raise RecordError("paper: missing or not an object")
    obj = validate_input(_INPUT, obj)
    paper = obj["paper"]
    raw_id = str(paper.get("id") or "").strip()
    if not raw_id:
        raise RecordError("paper.id: missing or empty")
    links: tuple[str | None, str | None]
    try:
        pid, _ = normalize_arxiv_id(raw_id)
        source, links = "arxiv", (abs_url(pid), pdf_url(pid))
    except BadInput:
        pid, source, links = f"hf:{raw_id}", "hf-daily", (None, None)
    if len(pid) > 64:
        raise RecordError(f"paper.id: too long ({len(pid)} characters, at most 64)")
    title = collapse(paper.get("title") or obj.get("title"))
    if not title:
        raise RecordError("paper.title: missing or empty")
    authors = []
    for author in paper.get("authors") or []:
        name = collapse(author.get("name") if isinstance(author, dict) else str(author))
        if name:
            authors.append({"name": name, "affiliations": []})
    try:
        published = parse_iso(paper.get("publishedAt") or obj.get("publishedAt"))
        submitted = parse_iso(obj.get("submittedOnDailyAt") or paper.get("submittedOnDailyAt"))
    except ValueError as exc:
        raise RecordError(f"paper.publishedAt/submittedOnDailyAt: {exc}") from None
    # Absent: leave the stored count alone (see store.merge).
    upvotes = paper.get("upvotes")
    if upvotes is not None and upvotes < 0:
        raise RecordError(f"paper.upvotes: must be 0 or more, got {upvotes!r}")
    record = PaperRecord(
        id=pid,
        source=source,
        title=title,
        abstract=collapse(paper.get("summary") or obj.get("summary")),
        authors=authors,
        published_at=published,
        updated_at=published,
        abs_url=links[0],
        pdf_url=links[1],
        imported_upvotes=upvotes,
    )
    when = submitted or published
    feed = None
    if when is not None:
        feed = FeedInfo(
            day=when.date(), submitted_by_name=_submitter(obj.get("submittedBy")), submitted_at=when
        )
    return checked(Item(record, feed))


def _submitter(value: Any) -> str | None:
    if isinstance(value, dict):
        name = value.get("fullname") or value.get("name")
        return collapse(str(name))[:128] or None if name else None
    if isinstance(value, str):
        return collapse(value)[:128] or None
    return None
