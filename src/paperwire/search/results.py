"""What a search answers (``SearchHit``, ``SearchResponse``, ``Ranking``) and how a page of
ranked ids becomes hits: rows loaded in one query, titles and snippets highlighted.

Invariants:
- ``build_hits`` loads the page's rows in one query per chunk (no N+1) as plain column rows
  (``store.search.page_rows``: attribute access like the ORM ``Paper``, no ORM objects);
  hidden or deleted papers are dropped, the order of the ranking is kept.
- ``title_html`` / ``snippet_html`` are escaped; only ``<mark>`` is markup. They are made on
  first access; ``highlights`` (the matched words) needs no spans and is made at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from paperwire.search.filters import Constraints
from paperwire.search.lexical import compile_query
from paperwire.search.query import ParsedQuery
from paperwire.search.snippets import (
    Highlighter,
    matched_words,
    snippet_html,
    title_html,
)


@dataclass
class SearchHit:
    paper_id: str
    paper: Any  # the paper's row: the ``papers`` columns as attributes (store.search.page_rows)
    score: float
    highlights: list[str] = field(default_factory=list)
    matched_by: set[str] = field(default_factory=set)
    # The calibrated semantic similarity in [0, 1] compared to the floor (None: not computed).
    similarity: float | None = None
    # (title, abstract, highlighter): what the two HTML fields are made from, on first use.
    # The JSON API shows neither, and marking them up (locating every matched word in a
    # whitespace-collapsed abstract) was a tenth of a cached search's cost.
    _marked: tuple[str, str, Highlighter] | None = field(default=None, repr=False, compare=False)

    @cached_property
    def title_html(self) -> str:
        if self._marked is None:
            return ""
        title, _, hl = self._marked
        return title_html(title, hl)

    @cached_property
    def snippet_html(self) -> str:
        if self._marked is None:
            return ""
        _, abstract, hl = self._marked
        return snippet_html(abstract, hl)


@dataclass
class SearchResponse:
    hits: list[SearchHit]
    total: int
    query: ParsedQuery
    notices: list[str]
    mode: str
    total_is_estimate: bool = False
    sort: str = "relevance"
    has_more: bool = False
    suggestions: list[str] = field(default_factory=list)
    similarity_floor: float | None = None


@dataclass
class Ranking:
    """Ranked ids before papers are loaded (what evaluation and the page builder share)."""

    ids: list[tuple[str, float]]
    total: int
    matched_by: dict[str, set[str]]
    notices: list[str]
    total_is_estimate: bool = False
    has_more: bool = False
    similarity: dict[str, float] = field(default_factory=dict)


def similarity(score: float) -> float:
    """The calibrated similarity of a semantic score (cosine-like, in [-1, 1]): clipped to
    [0, 1]; the number compared to the floor."""
    return min(1.0, max(0.0, float(score)))


def build_hits(db: Any, pq: ParsedQuery, ranking: Ranking) -> list[SearchHit]:
    """The page's hits, in ranking order (see the module invariants)."""
    from paperwire.store.search import page_rows

    if not ranking.ids:
        return []
    with db.engine.connect() as conn:
        papers = page_rows(conn, [pid for pid, _ in ranking.ids])
    cq = compile_query(pq, Constraints())
    stems = set(cq.stems)
    for phrase in cq.phrases:
        stems.update(s for _, s in phrase)
    hl = Highlighter.for_query(stems, cq.prefixes)
    hits = []
    for pid, score in ranking.ids:
        paper = papers.get(pid)
        if paper is None or paper.hidden:
            continue  # deleted or hidden between ranking and loading
        title, abstract = paper.title or "", paper.abstract or ""
        hits.append(
            SearchHit(
                paper_id=pid,
                paper=paper,
                score=float(score),
                highlights=matched_words([title, abstract], hl),
                matched_by=set(ranking.matched_by.get(pid, set())),
                similarity=ranking.similarity.get(pid),
                _marked=(title, abstract, hl),
            )
        )
    return hits
