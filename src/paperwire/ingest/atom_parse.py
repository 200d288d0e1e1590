"""Parse an arXiv API (Atom 1.0) reply into PaperRecords. Pure.

Invariants:
- Each ``<entry>`` becomes a record whose id is the arXiv id without version and whose
  ``version`` is the one in the entry's id (the API answers with the latest version unless a
  version was asked for).
- The API reports bad ids as an entry whose id points at ``/api/errors``; those come back as
  ``AtomReply.errors`` (message text), never as papers.
- Broken XML raises ``AtomError``; an entry the record schema rejects (``ingest.schema``) is
  left out and reported in ``AtomReply.rejected`` as ``id: field: reason``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from lxml import etree

from paperwire.errors import BadInput
from paperwire.ingest.arxiv_ids import abs_url, normalize_arxiv_id, pdf_url
from paperwire.ingest.items import RecordError
from paperwire.ingest.schema import check_record
from paperwire.ingest.text import author_entry, collapse, collapse_or_none, parse_iso
from paperwire.records import PaperRecord

ATOM = "{http://www.w3.org/2005/Atom}"
AX = "{http://arxiv.org/schemas/atom}"
OS = "{http://a9.com/-/spec/opensearch/1.1/}"


class AtomError(Exception):
    pass


@dataclass
class AtomReply:
    records: list[PaperRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    total_results: int | None = None


def parse_atom(body: bytes) -> AtomReply:
    try:
        root = etree.fromstring(
            body, parser=etree.XMLParser(resolve_entities=False, no_network=True)
        )
    except etree.XMLSyntaxError as exc:
        raise AtomError(f"the reply is not well-formed XML ({exc})") from None
    if root.tag != f"{ATOM}feed":
        raise AtomError(f"the reply is not an Atom feed (root <{root.tag}>)")
    reply = AtomReply()
    total = root.findtext(f"{OS}totalResults")
    if total and total.strip().isdigit():
        reply.total_results = int(total)
    for entry in root.findall(f"{ATOM}entry"):
        entry_id = (entry.findtext(f"{ATOM}id") or "").strip()
        if "/api/errors" in entry_id:
            reply.errors.append(collapse(entry.findtext(f"{ATOM}summary")) or entry_id)
            continue
        try:
            reply.records.append(check_record(_entry(entry, entry_id)))
        except RecordError as exc:
            reply.rejected.append(f"{entry_id}: {exc}")
    return reply


def _entry(entry, entry_id: str) -> PaperRecord:
    try:
        pid, version = normalize_arxiv_id(entry_id)
    except BadInput as exc:
        raise AtomError(f"entry with an unexpected id: {exc}") from None
    try:
        published = parse_iso(entry.findtext(f"{ATOM}published"))
        updated = parse_iso(entry.findtext(f"{ATOM}updated")) or published
    except ValueError as exc:
        raise RecordError(f"published/updated: {exc}") from None
    authors = []
    for author in entry.findall(f"{ATOM}author"):
        name = collapse(author.findtext(f"{ATOM}name"))
        if name:
            affiliations = author.findall(f"{AX}affiliation")
            authors.append(author_entry(name, (a.text for a in affiliations)))
    categories = [c.get("term") for c in entry.findall(f"{ATOM}category") if c.get("term")]
    primary = entry.find(f"{AX}primary_category")
    primary_term = primary.get("term") if primary is not None else None
    if primary_term and primary_term in categories:
        categories.remove(primary_term)
    if primary_term:
        categories.insert(0, primary_term)
    versions = []
    if published:
        versions.append({"version": 1, "created": _iso(published)})
    if version and version > 1 and updated:
        versions.append({"version": version, "created": _iso(updated)})
    doi = entry.findtext(f"{AX}doi")
    return PaperRecord(
        id=pid,
        source="arxiv",
        version=version,
        title=collapse(entry.findtext(f"{ATOM}title")),
        abstract=collapse(entry.findtext(f"{ATOM}summary")),
        authors=authors,
        categories=categories,
        published_at=published,
        updated_at=updated,
        versions=versions,
        comments=collapse_or_none(entry.findtext(f"{AX}comment")),
        journal_ref=collapse_or_none(entry.findtext(f"{AX}journal_ref")),
        doi=collapse_or_none(doi),
        abs_url=abs_url(pid),
        pdf_url=pdf_url(pid),
    )


def _iso(value: dt.datetime) -> str:
    return value.isoformat()
