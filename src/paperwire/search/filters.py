"""Filters on search results, and the one predicate that applies them to a paper in Python.

Invariant: ``row_matches`` accepts exactly the papers the lexical index's filter clauses accept
(same category patterns, same author phrase rule: within one author's name, same
inclusive date bounds, same link kinds for ``has:``), so results from
the index, from not-yet-indexed papers and from the semantic side are filtered alike.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from paperwire.search import analyzer
from paperwire.search.query import ParsedQuery


@dataclass(frozen=True)
class SearchFilters:
    """Filters given outside the query string (web form, API, digests).

    ``categories``: any of them (``cs.CL``, ``q-bio.*``, ``cs``); ``authors``: all of them
    (each a name or part of one); ``date_from``/``date_to``: inclusive publication dates;
    ``paper_ids``: only these papers (a digest edition's candidates: the query's result set
    within them, as if the library held nothing else); ``has``: link kinds the papers must
    all have (``code``...; the API's ``has=``)."""

    categories: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    paper_ids: frozenset[str] | None = None
    has: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.paper_ids is not None:
            object.__setattr__(self, "paper_ids", frozenset(self.paper_ids))
        # Accept lists and single strings from callers; store normalized tuples.
        for name in ("categories", "authors", "has"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, tuple(v for v in (value or ()) if v))
        object.__setattr__(self, "categories", tuple(c.strip().lower() for c in self.categories))


@dataclass(frozen=True)
class Constraints:
    """Everything that removes papers: merged filters plus the query's exclusions."""

    categories: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    excluded_terms: tuple[str, ...] = ()
    excluded_phrases: tuple[str, ...] = ()
    paper_ids: frozenset[str] | None = None  # None: every paper
    has: tuple[str, ...] = ()  # link kinds the paper must all have

    @property
    def active(self) -> bool:
        return bool(
            self.categories
            or self.authors
            or self.date_from
            or self.date_to
            or self.excluded_terms
            or self.excluded_phrases
            or self.has
            or self.paper_ids is not None
        )


def merge(query: ParsedQuery, filters: SearchFilters | None) -> Constraints:
    """Query-language filters AND explicit filters (categories from both are alternatives
    only within one source; across sources both must hold)."""
    f = filters or SearchFilters()
    cats = query.categories or f.categories
    if query.categories and f.categories:
        # Both restrict: keep the query's patterns that some explicit pattern allows.
        cats = tuple(
            c for c in query.categories if any(_pattern_overlaps(c, g) for g in f.categories)
        ) or ("\x00none",)
    date_from = max([d for d in (query.date_from, f.date_from) if d], default=None)
    date_to = min([d for d in (query.date_to, f.date_to) if d], default=None)
    return Constraints(
        categories=cats,
        authors=tuple(dict.fromkeys(query.authors + f.authors)),
        date_from=date_from,
        date_to=date_to,
        excluded_terms=query.excluded_terms,
        excluded_phrases=query.excluded_phrases,
        paper_ids=f.paper_ids,
        has=tuple(dict.fromkeys(query.has + f.has)),
    )


def _pattern_overlaps(a: str, b: str) -> bool:
    probe_a = a.replace("*", "x")
    probe_b = b.replace("*", "x")
    return category_matches(a, [probe_b]) or category_matches(b, [probe_a]) or a == b


def category_regex(pattern: str) -> str:
    """Regex over one lowercased category for a pattern (``cs`` = ``cs`` or ``cs.*``)."""
    pattern = pattern.lower()
    if "*" in pattern:
        return fnmatch.translate(pattern).removeprefix("(?s:").removesuffix(")\\Z")
    if "." not in pattern:
        return re.escape(pattern) + r"(\..*)?"
    return re.escape(pattern)


def category_matches(pattern: str, categories: Iterable[str]) -> bool:
    rx = re.compile(category_regex(pattern) + r"\Z")
    return any(rx.match(c.lower()) for c in categories)


def author_phrase_in(name: str, author_words: list[list[str]]) -> bool:
    """Do the words of ``name`` stand next to each other inside ONE author's name?
    (``author_words``: each author's words; a phrase never spans two authors.)"""
    want = analyzer.words(name)
    if not want:
        return True
    n = len(want)
    return any(
        words[i : i + n] == want for words in author_words for i in range(len(words) - n + 1)
    )


def author_words_of(authors: Iterable[object] | None) -> list[list[str]]:
    """Each author's name as its ``word``-analyzer tokens."""
    return [analyzer.words(name) for name in analyzer.author_names(authors)]


def phrase_in(stem_pos: list[tuple[int, str]], phrase: list[tuple[int, str]]) -> int:
    """How often the phrase (relative positions) occurs in a (position, stem) list."""
    if not phrase:
        return 0
    at: dict[int, str] = dict(stem_pos)
    first_off, first = phrase[0]
    count = 0
    for pos, stem in stem_pos:
        if stem != first:
            continue
        base = pos - first_off
        if all(at.get(base + off) == s for off, s in phrase[1:]):
            count += 1
    return count


def phrase_positions(text: str) -> list[tuple[int, str]]:
    """A phrase's stems with positions relative to its first stem."""
    toks = analyzer.stem_positions(text)
    if not toks:
        return []
    p0 = toks[0][0]
    return [(p - p0, s) for p, s in toks]


def row_matches(row: Any, cons: Constraints) -> bool:
    """Does a paper (anything with id, title, abstract, authors, categories, published_at
    and, optionally, primary_category and ``links``: its visible link kinds) pass the
    constraints?"""
    if cons.paper_ids is not None and row.id not in cons.paper_ids:
        return False
    if cons.has and not set(cons.has) <= set(getattr(row, "links", ()) or ()):
        return False
    if cons.categories:
        cats = list(row.categories or [])
        primary = getattr(row, "primary_category", None)
        if primary:
            cats.append(primary)
        if not any(category_matches(p, cats) for p in cons.categories):
            return False
    if cons.date_from or cons.date_to:
        pub = row.published_at
        if pub is None:
            return False
        day = pub.date() if isinstance(pub, dt.datetime) else pub
        if cons.date_from and day < cons.date_from:
            return False
        if cons.date_to and day > cons.date_to:
            return False
    per_author = None
    if cons.authors:
        per_author = author_words_of(row.authors)
        if not all(author_phrase_in(a, per_author) for a in cons.authors):
            return False
    if cons.excluded_terms or cons.excluded_phrases:
        title_pos = analyzer.stem_positions(row.title or "")
        abstract_pos = analyzer.stem_positions(row.abstract or "")
        stems = {s for _, s in title_pos} | {s for _, s in abstract_pos}
        if per_author is None:
            per_author = author_words_of(row.authors)
        author_words = [w for words in per_author for w in words]
        for term in cons.excluded_terms:
            term_stems = analyzer.stems(term)
            if any(s in stems for s in term_stems) or any(
                w in author_words for w in analyzer.words(term)
            ):
                return False
        for phrase in cons.excluded_phrases:
            rel = phrase_positions(phrase)
            if rel and (phrase_in(title_pos, rel) or phrase_in(abstract_pos, rel)):
                return False
    return True


def date_bounds_ts(cons: Constraints) -> tuple[int | None, int | None]:
    """Inclusive epoch-second bounds for the index's ``published`` field."""
    lo = hi = None
    if cons.date_from:
        lo = int(dt.datetime.combine(cons.date_from, dt.time()).replace(tzinfo=dt.UTC).timestamp())
    if cons.date_to:
        hi = int(
            dt.datetime.combine(cons.date_to, dt.time(23, 59, 59))
            .replace(tzinfo=dt.UTC)
            .timestamp()
        )
    return lo, hi
