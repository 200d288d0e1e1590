"""Which of an edition's papers each topic finds: the search page's answer, restricted to them.

A topic is run through ``SearchService.search`` — the one search function of the site — with
``SearchFilters(paper_ids=<the edition's candidates>)``: the same query language, the same
constraints, keyword and meaning both (hybrid mode), and the topic's ``threshold`` as the
call's similarity floor (``min_similarity``), i.e. compared to the same calibrated similarity
the search page compares to ``PAPERWIRE_SEMANTIC_FLOOR``. So a topic finds in a digest
exactly the papers of the period that its query finds on the search page (with that floor),
and a hit says why it is there: by keyword, by meaning, or both (``SearchHit.matched_by``).

Invariants:
- ``TopicSearch.match`` depends only on the topic's query and threshold (cached per pair:
  10,000 subscribers share far fewer topics) and never returns a paper outside the
  candidates.
- Results come best first (the search page's relevance order); at most ``MAX_TOPIC_HITS``
  per topic (a subscriber gets at most 50 papers; the rest would never be read).
- Nothing touches the search service until a topic is matched: an edition without topics
  loads no index and no model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from paperwire.digest.topics import topic_query

MAX_TOPIC_HITS = 600
_PAGE = 200  # SearchService.MAX_LIMIT
MODE = "hybrid"  # keyword and meaning both (lexical alone when no semantic index)


@dataclass(frozen=True)
class TopicHit:
    paper_id: str
    relevance: float  # the hit's score / the topic's best score (0..1]
    matched_by: frozenset[str]  # {"lexical", "semantic"}: why the paper is a result


class TopicSearch:
    """The topics' results among one edition's candidate papers."""

    def __init__(self, service: Callable[[], Any], candidate_ids: Iterable[str]) -> None:
        """``service``: returns the SearchService (called on first use only)."""
        from paperwire.search.filters import SearchFilters

        self._service = service
        self.filters = SearchFilters(paper_ids=frozenset(candidate_ids))
        self._cache: dict[tuple[str, float | None], list[TopicHit]] = {}

    def match(self, topic: dict[str, Any]) -> list[TopicHit]:
        key = _key(topic)
        hits = self._cache.get(key)
        if hits is None:
            hits = self._cache[key] = self._search(*key)
        return hits

    def prefetch(self, topics: Iterable[dict[str, Any]]) -> None:
        """Embed the queries of the topics not matched yet in one batch (a batch of
        subscribers' topics: their searches then find their vectors cached). Only speed
        changes: ``match`` returns the same hits with or without it."""
        if not self.filters.paper_ids:
            return
        from paperwire.search.query import parse_query

        keys = {_key(t) for t in topics} - self._cache.keys()
        texts = [parse_query(query).text for query, _ in keys]
        if any(texts):
            self._service().prime_query_vectors(texts)

    def _search(self, query: str, threshold: float | None) -> list[TopicHit]:
        if not self.filters.paper_ids:
            return []
        svc = self._service()
        found: list[tuple[str, float, frozenset[str]]] = []
        while len(found) < MAX_TOPIC_HITS:
            # ``rank``, not ``search``: the same result set and order without loading rows or
            # highlighting snippets, which a digest never shows (it has its own paper rows).
            _, ranking = svc.rank(
                query,
                mode=MODE,
                sort="relevance",
                filters=self.filters,
                limit=min(_PAGE, MAX_TOPIC_HITS - len(found)),
                offset=len(found),
                min_similarity=threshold,
            )
            found += [
                (pid, score, frozenset(ranking.matched_by.get(pid, ())))
                for pid, score in ranking.ids
            ]
            if not ranking.ids or not ranking.has_more:
                break
        best = max((score for _, score, _ in found), default=0.0)
        return [
            TopicHit(pid, round(score / best, 4) if best > 0 else 1.0, matched_by)
            for pid, score, matched_by in found
        ]


def _key(topic: dict[str, Any]) -> tuple[str, float | None]:
    """What a topic's hits depend on: its query and its threshold."""
    return topic_query(topic["kind"], topic["value"]), topic.get("threshold")
