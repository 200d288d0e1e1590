"""Read-side guards for paper data as stored.

Imports pass the record schema (``ingest.schema``), but rows written before it existed (or by
hand, or by an older version) may hold anything JSON allows: authors as plain strings,
numbers among the categories, NULs in a title, ``javascript:`` links. Whatever turns a stored
paper into a page, a feed, a mail or an index document goes through these functions, so one
bad row cannot break it; the output is still escaped where it is written.

Invariants: pure, never raise, whatever the input; well-formed values come back unchanged
(so for data that passed the schema these are no-ops apart from the cost of a check).
"""

from __future__ import annotations

import re
from typing import Any

# Not allowed in XML 1.0 (so an Atom feed or lxml would refuse them): C0 controls other than
# tab, newline and carriage return, lone surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_HTTP_URL = re.compile(r"https?://[^\s/?#\x00-\x1f\x7f]+(?:[/?#][^\s\x00-\x1f\x7f]*)?")


# The C0 controls of ``_NOT_XML``, as bytes to delete: for an ASCII string (nearly every
# stored text) ``bytes.translate`` tells whether any is present about 4x faster than the
# regex scan, which ran over every abstract of every page and result list.
_C0_NOT_XML = bytes(c for c in range(32) if c not in (9, 10, 13))


def text(value: Any) -> str:
    """A string safe for HTML, JSON, XML and mail ("" for anything that is not a string)."""
    if not isinstance(value, str):
        return ""
    if value.isascii():
        raw = value.encode("ascii")
        if len(raw.translate(None, _C0_NOT_XML)) == len(raw):
            return value
    return _NOT_XML.sub("", value) if _NOT_XML.search(value) else value


def optional_text(value: Any) -> str | None:
    return text(value) or None


def strings(value: Any) -> list[str]:
    """A list of non-empty strings (other elements, or a non-list, are dropped)."""
    if not isinstance(value, list):
        return []
    return [s for s in (text(v) for v in value if isinstance(v, str)) if s]


def authors(value: Any) -> list[dict[str, Any]]:
    """``[{"name": str, "affiliations": [str, ...]}]``; a plain-string author becomes a name,
    an author without a usable name is dropped."""
    if not isinstance(value, list):
        return []
    out = []
    for author in value:
        if isinstance(author, str):
            name, affiliations = text(author), []
        elif isinstance(author, dict):
            name, affiliations = text(author.get("name")), strings(author.get("affiliations"))
        else:
            continue
        if name.strip():
            out.append({"name": name, "affiliations": affiliations})
    return out


def author_names(value: Any) -> list[str]:
    return [a["name"] for a in authors(value)]


def versions(value: Any) -> list[dict[str, Any]]:
    """``[{"version": int, "created": str}]``; malformed entries are dropped."""
    if not isinstance(value, list):
        return []
    return [
        {"version": v["version"], "created": text(v.get("created"))}
        for v in value
        if isinstance(v, dict)
        and isinstance(v.get("version"), int)
        and not isinstance(v.get("version"), bool)
    ]


def http_url(value: Any) -> str | None:
    """The value when it is an absolute http(s) URL, else None: never ``javascript:``,
    ``data:`` or a relative link, whatever was stored."""
    if isinstance(value, str) and _HTTP_URL.fullmatch(value):
        return value
    return None
