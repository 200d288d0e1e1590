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
        threshold = topic.get("threshold")
        key = (topic_query(topic["kind"], topic["value"]), threshold)
        hits = self._cache.get(key)
        if hits is None:
            hits = self._cache[key] = self._search(*key)
        return hits

    def _search(self, query: str, threshold: float | None) -> list[TopicHit]:
        if not self.filters.paper_ids:
            return []
        svc = self._service()
        found: list[Any] = []
        while len(found) < MAX_TOPIC_HITS:
            resp = svc.search(
                query,
                mode=MODE,
                sort="relevance",
                filters=self.filters,
                limit=min(_PAGE, MAX_TOPIC_HITS - len(found)),
                offset=len(found),
                min_similarity=threshold,
            )
            found += resp.hits
            if not resp.hits or not resp.has_more:
                break
        best = max((h.score for h in found), default=0.0)
        return [
            TopicHit(
                h.paper_id, round(h.score / best, 4) if best > 0 else 1.0, frozenset(h.matched_by)
            )
            for h in found
        ]
