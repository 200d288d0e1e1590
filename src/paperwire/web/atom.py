"""Atom 1.0 documents (RFC 4287) built with lxml, so every text is escaped correctly.

Invariants: a feed always has id, title, updated, a self and an alternate link and an author;
every entry has id (a tag: URI stable per paper), title (math delimiters removed), updated,
an alternate link to the paper page, a summary (the key sentence, labelled as extracted, then
the abstract) and one category per arXiv category; the paper's PDF and its visible links to
code and resources are ``related`` links.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlparse

from lxml import etree

from paperwire import stored
from paperwire.markup.mathrender import plain_text
from paperwire.summary.read import LABEL as KEY_SENTENCE_LABEL

ATOM_NS = "http://www.w3.org/2005/Atom"
_E = f"{{{ATOM_NS}}}"


def _rfc3339(value: str | dt.datetime | None, fallback: dt.datetime) -> str:
    if isinstance(value, str) and value:
        return value if value.endswith("Z") or "+" in value[10:] else value + "Z"
    when = value if isinstance(value, dt.datetime) else fallback
    return when.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def _tag_id(base_url: str, what: str) -> str:
    host = urlparse(base_url).hostname or "localhost"
    return f"tag:{host},2024:{what}"


def _sub(parent, name: str, text: str | None = None, **attrs) -> etree._Element:
    # stored.text drops what XML 1.0 cannot carry (lxml would raise ValueError): one stored
    # title with a control character must not take every feed down.
    el = etree.SubElement(
        parent, _E + name, {k: stored.text(v) for k, v in attrs.items() if v is not None}
    )
    if text is not None:
        el.text = stored.text(text)
    return el


def build_feed(
    *,
    base_url: str,
    site_name: str,
    feed_key: str,
    title: str,
    self_path: str,
    alternate_path: str,
    items: Iterable[dict[str, Any]],
    now: dt.datetime,
) -> bytes:
    """``items`` are ``render`` items (dicts with a ``paper`` key, optional
    ``submittedOnDailyAt``)."""
    base = base_url.rstrip("/")
    items = list(items)
    root = etree.Element(_E + "feed", nsmap={None: ATOM_NS})
    _sub(root, "id", _tag_id(base_url, f"feed/{feed_key}"))
    _sub(root, "title", title)
    updates = [
        _rfc3339(
            i.get("submittedOnDailyAt")
            or i["paper"].get("updatedAt")
            or i["paper"].get("publishedAt"),
            now,
        )
        for i in items
    ]
    _sub(root, "updated", max(updates) if updates else _rfc3339(None, now))
    _sub(root, "link", rel="self", type="application/atom+xml", href=base + self_path)
    _sub(root, "link", rel="alternate", type="text/html", href=base + alternate_path)
    author = _sub(root, "author")
    _sub(author, "name", site_name)
    _sub(root, "generator", "Paperwire")
    for item, updated in zip(items, updates):
        paper = item["paper"]
        entry = _sub(root, "entry")
        _sub(entry, "id", _tag_id(base_url, f"paper/{paper['id']}"))
        _sub(entry, "title", plain_text(paper["title"]) or paper["id"])
        _sub(entry, "updated", updated)
        if paper.get("publishedAt"):
            _sub(entry, "published", _rfc3339(paper["publishedAt"], now))
        _sub(entry, "link", rel="alternate", type="text/html", href=f"{base}/papers/{paper['id']}")
        pdf = stored.http_url(paper.get("pdfUrl"))  # feed readers have no CSP to stop javascript:
        if pdf:
            _sub(entry, "link", rel="related", type="application/pdf", href=pdf, title="PDF")
        for link in paper.get("links") or []:  # code, project page... (web/links.py)
            href = stored.http_url(link.get("url"))
            if href:
                _sub(
                    entry,
                    "link",
                    rel="related",
                    type="text/html",
                    href=href,
                    title=link.get("label") or link.get("kind"),
                )
        names = stored.author_names(paper.get("authors"))
        for name in names[:20]:
            _sub(_sub(entry, "author"), "name", name)
        if not names:
            _sub(
                _sub(entry, "author"),
                "name",
                f"{paper.get('authorCount') or 'Unknown'} authors"
                if paper.get("authorCount")
                else "Unknown",
            )
        for cat in stored.strings(paper.get("categories")):
            _sub(entry, "category", term=cat)
        summary = plain_text(paper.get("summary") or "")
        votes = f"{paper.get('upvotes', 0)} upvotes, {item.get('numComments', 0)} comments. "
        key = plain_text(paper.get("ai_summary") or "")
        if key:
            summary = f"{KEY_SENTENCE_LABEL}: {key} Abstract: {summary}"
        _sub(entry, "summary", votes + summary, type="text")
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")
