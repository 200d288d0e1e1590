"""Parse one OAI-PMH ``ListRecords`` page in arXiv's ``arXiv`` metadata format. Pure.

Invariants:
- Returns every record of the page (deleted ones separately), the resumption token (None on
  the last page) and the largest datestamp seen.
- Every record passes the record schema (``ingest.schema``); one that does not is in
  ``rejected`` as ``identifier: field: reason``.
- OAI-PMH errors become ``OaiError`` with the code; ``noRecordsMatch`` is not an error but an
  empty page. A reply that is not OAI-PMH XML raises ``OaiError('badXml', ...)``.
- The arXiv format has the first (``created``) and latest (``updated``) version dates but no
  version numbers, so records carry ``version=None`` (see ``store.merge.may_replace``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from lxml import etree

from paperwire.errors import BadInput
from paperwire.ingest.arxiv_ids import abs_url, normalize_arxiv_id, pdf_url
from paperwire.ingest.items import RecordError
from paperwire.ingest.schema import check_record
from paperwire.ingest.text import author_entry, collapse, collapse_or_none
from paperwire.records import PaperRecord

OAI = "{http://www.openarchives.org/OAI/2.0/}"
ARXIV = "{http://arxiv.org/OAI/arXiv/}"


class OaiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message


@dataclass
class OaiPage:
    records: list[PaperRecord] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    token: str | None = None
    complete_list_size: int | None = None
    cursor: int | None = None
    max_datestamp: str | None = None


def parse_list_records(body: bytes) -> OaiPage:
    try:
        root = etree.fromstring(
            body, parser=etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
        )
    except etree.XMLSyntaxError as exc:
        raise OaiError("badXml", f"the reply is not well-formed XML ({exc})") from None
    if root.tag != f"{OAI}OAI-PMH":
        raise OaiError("badXml", f"the reply is not an OAI-PMH document (root <{root.tag}>)")
    page = OaiPage()
    for error in root.findall(f"{OAI}error"):
        code = error.get("code", "unknown")
        if code == "noRecordsMatch":
            return page
        raise OaiError(code, collapse(error.text))
    container = root.find(f"{OAI}ListRecords")
    if container is None:
        raise OaiError("badXml", "the reply has no <ListRecords> element")
    for record in container.findall(f"{OAI}record"):
        header = record.find(f"{OAI}header")
        if header is None:
            page.rejected.append("record without <header>")
            continue
        datestamp = (header.findtext(f"{OAI}datestamp") or "").strip()
        if datestamp and (page.max_datestamp is None or datestamp > page.max_datestamp):
            page.max_datestamp = datestamp
        identifier = (header.findtext(f"{OAI}identifier") or "").strip()
        if header.get("status") == "deleted":
            page.deleted.append(identifier.rsplit(":", 1)[-1])
            continue
        meta = record.find(f"{OAI}metadata/{ARXIV}arXiv")
        if meta is None:
            page.rejected.append(f"{identifier}: no arXiv metadata")
            continue
        try:
            page.records.append(parse_arxiv_metadata(meta))
        except RecordError as exc:
            page.rejected.append(f"{identifier}: {exc}")
    token = container.find(f"{OAI}resumptionToken")
    if token is not None:
        page.token = (token.text or "").strip() or None
        if token.get("completeListSize", "").isdigit():
            page.complete_list_size = int(token.get("completeListSize"))
        if token.get("cursor", "").isdigit():
            page.cursor = int(token.get("cursor"))
    return page


def parse_arxiv_metadata(meta) -> PaperRecord:
    def text(tag: str) -> str | None:
        return meta.findtext(f"{ARXIV}{tag}")

    raw_id = (text("id") or "").strip()
    try:
        pid, _ = normalize_arxiv_id(raw_id)
    except BadInput as exc:
        raise RecordError(f"id: {exc}") from None
    title = collapse(text("title"))
    if not title:
        raise RecordError("title: missing")
    created = _date(text("created"), "created")
    updated = _date(text("updated"), "updated") or created
    authors = []
    for author in meta.findall(f"{ARXIV}authors/{ARXIV}author"):
        parts = [author.findtext(f"{ARXIV}{tag}") for tag in ("forenames", "keyname", "suffix")]
        name = collapse(" ".join(p for p in parts if p))
        if name:
            affiliations = author.findall(f"{ARXIV}affiliation")
            authors.append(author_entry(name, (a.text for a in affiliations)))
    versions = []
    if created:
        versions.append({"version": 1, "created": created.isoformat()})
    return check_record(
        PaperRecord(
            id=pid,
            source="arxiv",
            version=None,
            title=title,
            abstract=collapse(text("abstract")),
            authors=authors,
            categories=(text("categories") or "").split(),
            published_at=created,
            updated_at=updated,
            versions=versions,
            comments=collapse_or_none(text("comments")),
            journal_ref=collapse_or_none(text("journal-ref")),
            doi=collapse_or_none(text("doi")),
            license=collapse_or_none(text("license")),
            abs_url=abs_url(pid),
            pdf_url=pdf_url(pid),
        )
    )


def _date(value: str | None, what: str) -> dt.datetime | None:
    if not value or not value.strip():
        return None
    try:
        return dt.datetime.combine(dt.date.fromisoformat(value.strip()), dt.time())
    except ValueError:
        raise RecordError(f"{what}: not a date: {value[:40]!r}") from None
