"""Subscribers' topics: what they are, how they are validated, and how a digest names them.

A topic is ``{"kind": "query"|"category"|"author", "value": str, "threshold": float|None}``.
Every kind is turned into a query of the search language (``cat:VALUE``,
``author:"VALUE"``) and run by the site's one search function (digest/matching.py), so a
saved search means in a digest what it means on the search page. ``threshold`` is the
topic's similarity floor: a paper that does not contain the topic's words enters by meaning
only when its similarity to the topic reaches it (the site-wide default is
``PAPERWIRE_SEMANTIC_FLOOR``); keyword matches always count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from paperwire.errors import BadInput

KINDS = ("query", "category", "author")
MAX_TOPICS = 20
MAX_TOPIC_CHARS = 300
_CONTROL = {chr(c) for c in range(32)} | {"\x7f", "\u2028", "\u2029"}


# --- validation -------------------------------------------------------------------------------
def clean_text(value: str) -> str:
    """Collapse whitespace and drop control characters (CR/LF included)."""
    return " ".join("".join(" " if ch in _CONTROL else ch for ch in str(value)).split())


def validate_topics(raw: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Normalised topics, or ``BadInput`` naming the first bad one."""
    from paperwire.search.query import parse_query

    out: list[dict[str, Any]] = []
    seen = set()
    for i, item in enumerate(raw, 1):
        kind = str(item.get("kind") or "query").strip().lower()
        if kind not in KINDS:
            raise BadInput(f"topic {i}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
        value = clean_text(item.get("value") or "")
        if not value:
            continue
        if len(value) > MAX_TOPIC_CHARS:
            raise BadInput(f"topic {i}: longer than {MAX_TOPIC_CHARS} characters")
        threshold = item.get("threshold")
        if threshold in ("", None):
            threshold = None
        else:
            try:
                threshold = float(threshold)
            except (TypeError, ValueError):
                raise BadInput(
                    f"topic {i} ({value}): threshold must be a number between 0 "
                    f"and 1, not {threshold!r}"
                ) from None
            if not 0.0 <= threshold <= 1.0 or math.isnan(threshold):
                raise BadInput(f"topic {i} ({value}): threshold must be between 0 and 1")
        parsed = parse_query(topic_query(kind, value))
        if not (parsed.has_text or parsed.authors or parsed.categories):
            why = "; ".join(parsed.notices) or "nothing to search for"
            raise BadInput(f"topic {i} ({value}): {why}")
        key = (kind, value.lower())
        if key in seen:
            continue
        seen.add(key)
        out.append({"kind": kind, "value": value, "threshold": threshold})
    if len(out) > MAX_TOPICS:
        raise BadInput(f"at most {MAX_TOPICS} topics")
    return out


def topic_query(kind: str, value: str) -> str:
    """The search-language query a topic stands for."""
    if kind == "category":
        return " ".join(f"cat:{v}" for v in value.replace(",", " ").split())
    if kind == "author":
        return f'author:"{value.replace(chr(34), "")}"'
    return value


def topic_reason(topic: dict[str, Any], matched_by: Iterable[str]) -> str:
    """Why a paper is in a digest, in words: ``your topic “state space models” — by
    keyword`` / ``— by meaning`` / ``— by keyword and meaning``. Category and author topics
    are filters: a paper is there because it is in the category or by the author."""
    kind, value = topic["kind"], topic["value"]
    if kind == "category":
        return f"your category {value}"
    if kind == "author":
        return f"your author {value}"
    by = set(matched_by)
    how = " and ".join(w for k, w in (("lexical", "keyword"), ("semantic", "meaning")) if k in by)
    return f"your topic “{value}”" + (f" — by {how}" if how else "")
