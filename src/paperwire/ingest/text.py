"""Small pure helpers shared by the parsers: whitespace, dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from email.utils import parsedate_to_datetime
from typing import Any

_MONTHS = {
    name: i
    for i, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def collapse(text: str | None) -> str:
    """Collapse runs of whitespace (newlines of hard-wrapped abstracts) to one space.

    LaTeX is kept as written: search and the web page decide how to show it."""
    if not text:
        return ""
    # Most short fields (names, categories) need no work; these scans are much cheaper than
    # split + join.
    if "  " not in text and "\n" not in text and "\t" not in text and "\r" not in text:
        return text.strip() if text[0] == " " or text[-1] == " " else text
    return " ".join(text.split())


def collapse_or_none(text: str | None) -> str | None:
    value = collapse(text)
    return value or None


def author_entry(name: str, affiliations: Iterable[str | None]) -> dict[str, Any]:
    """One author of a record: ``name`` and the non-blank ``affiliations``, whitespace
    collapsed (the arXiv Atom and OAI parsers' authors)."""
    return {"name": name, "affiliations": [collapse(a) for a in affiliations if a and a.strip()]}


def parse_rfc2822(value: str) -> dt.datetime:
    """'Mon, 2 Apr 2007 19:18:42 GMT' -> naive UTC datetime.

    The snapshot has millions of these, so the common GMT form is parsed by hand (5x faster
    than email.utils); anything else falls back to the general parser."""
    parts = value.split()
    if len(parts) == 6 and parts[5] == "GMT" and parts[2] in _MONTHS:
        try:
            h, m, s = parts[4].split(":")
            return dt.datetime(
                int(parts[3]), _MONTHS[parts[2]], int(parts[1]), int(h), int(m), int(s)
            )
        except ValueError:
            pass
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"bad date {value!r}") from exc
    if parsed is None:
        raise ValueError(f"bad date {value!r}")
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def parse_iso(value: str | None) -> dt.datetime | None:
    """ISO-8601 date or datetime (with Z or offset) -> naive UTC datetime."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"bad date {value!r}")
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"bad date {value!r}") from exc
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed
