"""THE search function: web pages, the JSON API, the CLI, the Atom search feed and digest
topics all call this. What a query means (constraints, keyword/meaning membership, sorts,
totals, pages) is stated once, in search/query.py's docstring.

    svc = get_search_service(settings, db)
    resp = svc.search("seq cat:cs.CL", mode="hybrid", sort="relevance", limit=20)
    for hit in resp.hits: hit.paper, hit.score, hit.title_html, hit.snippet_html, ...
    svc.similar(paper_id, limit=10)

Interface for callers:
- ``search(query, *, mode="hybrid", sort="relevance", filters=None, limit=20, offset=0,
  min_similarity=None) -> SearchResponse``. ``query`` is a string in the query language (or
  a ``ParsedQuery``); ``filters`` (``SearchFilters``: categories, authors, date_from,
  date_to) are constraints ANDed with the query's. ``min_similarity`` overrides the
  similarity floor (``settings.semantic_floor``) for this call: a digest topic's threshold.
- ``SearchResponse``: ``hits`` (this page), ``total`` (size of the whole result set,
  independent of limit/offset), ``total_is_estimate``, ``has_more`` (a next page exists),
  ``notices`` (what was ignored or reinterpreted, plain text), ``suggestions`` (near
  spellings to offer when the set is empty), ``mode`` (the mode actually used),
  ``sort``, ``similarity_floor`` (the floor applied).
- ``SearchHit``: ``paper`` (ORM row), ``score`` (ranking score, meaningful only within one
  response), ``matched_by`` (subset of {"lexical", "semantic"}: "lexical" = a keyword match,
  "semantic" = similarity >= the floor; never empty for a query with words), ``similarity``
  (the calibrated semantic similarity in [0, 1] that is compared to the floor; None when
  not computed: lexical mode, no semantic index, paper not embedded yet), ``title_html`` /
  ``snippet_html`` (escaped, ``<mark>`` only), ``highlights``.
- Raises ``BadInput`` for an unknown mode/sort or a limit/offset out of range; never for the
  query text.

Invariants:
- One service per (settings, database) per process; it is thread-safe.
- ``hit.paper`` rows of a page are loaded in one query (no N+1); hidden papers never appear.
- ``title_html`` / ``snippet_html`` are escaped; only ``<mark>`` is markup.
- A query the parser could not fully use is answered as well as possible, with ``notices``.

Hybrid (relevance order): the best ``POOL`` papers of each side are fused; every candidate
of either pool gets a semantic score (cosine of lexical-only candidates computed exactly),
raised by its best-matching abstract sentence: ``(cos + w * max sentence cos) / (1 + w)``,
``w`` = ``settings.sentence_weight`` (search/sentences.py); papers without sentence vectors
keep their cosine. Semantic mode re-scores its own pool the same way.

With ``sentence_weight = 0`` (or RRF), the pools are fused by ``fusion.fuse``, optionally after
*score completion*: every candidate gets its real score on both sides (BM25 of semantic-only
candidates via ``LexicalIndex.score_ids``, cosine of lexical-only ones via the semantic
index's exact ``candidate_ids`` search), so fusion never has to guess a missing score.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from paperwire.errors import BadInput, NotFound, SemanticUnavailable
from paperwire.search import fusion, shared_cache
from paperwire.search.cache import RankingCache
from paperwire.search.filters import Constraints, SearchFilters, merge
from paperwire.search.lexical import LexicalIndex, compile_query
from paperwire.search.meaning import (
    PREPARING_NOTICE,
    SEMANTIC_POOL,
    MeaningSide,
    SemanticPool,
)
from paperwire.search.query import ParsedQuery, parse_query
from paperwire.search.results import Ranking, SearchHit, SearchResponse, build_hits
from paperwire.search.results import similarity as _similarity
from paperwire.search.resultset import ResultSet

log = logging.getLogger(__name__)

MODES = ("hybrid", "lexical", "semantic")
SORTS = ("relevance", "newest", "upvotes")
MAX_LIMIT = 200
MAX_OFFSET = 10_000
POOL = 100  # lexical candidates fused with the semantic ones (the fused head)

__all__ = [
    "ParsedQuery",
    "Ranking",
    "SearchFilters",
    "SearchHit",
    "SearchResponse",
    "SearchService",
    "SemanticPool",
    "get_search_service",
    "search",
]


class SearchService(MeaningSide):
    def __init__(
        self,
        settings: Any,
        db: Any,
        *,
        fusion_params: fusion.FusionParams | None = None,
        background: bool = True,
        lexical: LexicalIndex | None = None,
        semantic: Any = None,
        encoder: Any = None,
    ) -> None:
        """``lexical``, ``semantic`` and ``encoder`` may be handed in (benchmarks serve a
        synthetic vector index this way); by default the lexical index is opened here and the
        semantic side lazily, by ``semantic()``, once the model is ready. ``semantic`` and
        ``encoder`` come together: the index's vectors must be the encoder's. A handed-in index
        answers ``search``, ``similar``, ``refresh``, ``version`` and ``close`` as
        ``SemanticIndex`` does."""
        if (semantic is None) != (encoder is None):
            raise ValueError("semantic and encoder are handed in together")
        self.settings = settings
        self.db = db
        self.fusion_params = fusion_params or fusion.FusionParams(
            "weighted", alpha=settings.hybrid_alpha, lexical_floor=settings.hybrid_lexical_floor
        )
        # lam of the sentence re-scoring (search/sentences.py); 0 turns it off.
        self.sentence_weight = max(0.0, float(settings.sentence_weight))
        # Score completion measured no gain on SciFact train (bench/relevance.py) and costs a
        # query per side; off by default, kept as an option the benchmark evaluates.
        self.complete_scores = False
        self.lexical = lexical if lexical is not None else LexicalIndex(settings, db)
        self._semantic = semantic
        self._semantic_error: str | None = None
        self._encoder = encoder
        self._loading = False  # one thread loads the semantic side; the others do not wait
        self._query_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._rankings: RankingCache[tuple[ParsedQuery, Ranking]] = RankingCache(
            settings.search_cache_size
        )
        # The rankings the workers of one `paperwire serve` share (None elsewhere).
        self._shared = shared_cache.SharedRankings.from_env() if self._rankings.size else None
        # Filter-only candidate lists of the semantic side (meaning.py), same versioning.
        self._candidates: RankingCache[tuple[list[str] | None]] = RankingCache(16)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(
                target=self._refresher, name="pw-search-refresh", daemon=True
            )
            self._thread.start()

    # ---- background upkeep -----------------------------------------------------------------
    def _refresher(self) -> None:
        """Folds newly committed papers into the lexical index (and lets the semantic side
        refresh); failures are logged and retried on the next tick."""
        interval = max(0.5, float(self.settings.index_refresh_seconds))
        while not self._stop.wait(interval):
            try:
                self.lexical.refresh(block=False)
            except Exception:
                log.exception("lexical index refresh failed")
            sem = self._semantic
            if sem is not None:
                try:
                    sem.refresh()
                except Exception:
                    log.exception("semantic index refresh failed")

    # ---- ranking ---------------------------------------------------------------------------
    def rank(
        self,
        query: str | ParsedQuery,
        *,
        mode: str = "hybrid",
        sort: str = "relevance",
        filters: SearchFilters | None = None,
        limit: int = 20,
        offset: int = 0,
        prefix: bool = True,
        min_similarity: float | None = None,
    ) -> tuple[ParsedQuery, Ranking]:
        """Ranked paper ids (no rows loaded). ``search`` builds pages from this.

        Served from the ranking cache (search/cache.py) when the same search was ranked
        before from indexes in the same state; the returned ``Ranking`` is then shared:
        callers must not modify it."""
        # One read of the not-yet-indexed papers serves every index call of this ranking
        # (and the cache's version check).
        args = (query, mode, sort, filters, limit, offset, prefix, min_similarity)
        with self.lexical.shared_delta():
            if not self._cacheable(query, sort, filters):
                return self._rank(*args)
            version = self._index_version(mode)
            cached = self._rankings.get(args, version)
            if cached is not None:
                return cached
            shared = self._shared_slot(args, mode) if self._shared is not None else None
            if shared is not None:
                found = self._shared.get(*shared)  # type: ignore[union-attr]
                if found is not None:
                    # A shared search's query is a string (_cacheable): parsed as _rank does.
                    ranked = (parse_query(str(query)), found)
                    if self._index_version(mode) == version:
                        self._rankings.put(args, version, ranked)
                    return ranked
            ranked = self._rank(*args)
            # Stored only if nothing changed while ranking (a refresh may have applied
            # papers mid-way): a cached ranking is never older than its version says.
            if self._index_version(mode) == version:
                self._rankings.put(args, version, ranked)
                if shared is not None:
                    self._shared.put(*shared, ranked[1])  # type: ignore[union-attr]
            return ranked

    def _shared_slot(self, args: tuple[Any, ...], mode: str) -> tuple[str, str] | None:
        """(key, content version) of a search in the workers' shared rankings, or None when
        it is not shared: filters (their repr is not stable across processes) or a semantic
        side that cannot say its content version (a handed-in index)."""
        query, mode, sort, filters, limit, offset, prefix, min_similarity = args
        if filters is not None:
            return None
        if mode == "lexical":
            content: Any = None
        else:
            sem = self.semantic()
            if sem is None:
                content = self._semantic_error
            elif hasattr(sem, "content_version"):
                content = sem.content_version()
            else:
                return None
        key = shared_cache.key_text(query, mode, sort, limit, offset, prefix, min_similarity)
        return key, shared_cache.version_text((self.lexical.version(), content))

    def _cacheable(
        self, query: str | ParsedQuery, sort: str, filters: SearchFilters | None
    ) -> bool:
        """Whether a search's ranking may be cached (its arguments are then the key). Not:
        upvote order (votes change without touching the indexes), a digest's candidate set
        (asked once per edition) and parsed queries (the evaluation's)."""
        return bool(
            self._rankings.size
            and sort != "upvotes"
            and isinstance(query, str)
            and (filters is None or filters.paper_ids is None)
        )

    def _index_version(self, mode: str) -> tuple[object, ...]:
        """The state of the indexes a search in ``mode`` answers from (cache.py's version).
        Asks for the semantic side, as the search would (that starts loading it)."""
        if mode == "lexical":
            return (self.lexical.version(),)
        sem = self.semantic()
        return (self.lexical.version(), sem.version() if sem is not None else self._semantic_error)

    def _rank(
        self,
        query: str | ParsedQuery,
        mode: str,
        sort: str,
        filters: SearchFilters | None,
        limit: int,
        offset: int,
        prefix: bool,
        min_similarity: float | None,
    ) -> tuple[ParsedQuery, Ranking]:
        with self.lexical.shared_delta():
            if mode not in MODES:
                raise BadInput(f"unknown search mode {mode!r} (use one of {', '.join(MODES)})")
            if sort not in SORTS:
                raise BadInput(f"unknown sort {sort!r} (use one of {', '.join(SORTS)})")
            if not isinstance(limit, int) or not 0 < limit <= MAX_LIMIT:
                raise BadInput(f"limit must be between 1 and {MAX_LIMIT}")
            if not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
                raise BadInput(f"offset must be between 0 and {MAX_OFFSET}")
            floor = self._floor(min_similarity)
            pq = query if isinstance(query, ParsedQuery) else parse_query(query)
            cons = merge(pq, filters)
            notices = list(pq.notices)
            if not pq.has_text and not cons.active:
                notices.append(
                    "Type some words to search for (e.g. seq2seq, "
                    '"protein folding", author:hinton, cat:cs.CL).'
                )
                return pq, Ranking([], 0, {}, notices)
            if pq.has_text and not compile_query(pq, cons, prefix=prefix).has_text:
                notices.append("The query has only very common words; nothing to rank by.")
                return pq, Ranking([], 0, {}, notices)
            rs = self._result_set(pq, cons, mode, floor, prefix, notices)
            n = offset + limit + 1  # one more: whether a next page exists
            order = {"relevance": rs.relevance, "newest": rs.newest, "upvotes": rs.upvotes}[sort]
            ordered = order(n)
            page = ordered[offset : offset + limit]
            return pq, Ranking(
                page,
                rs.total,
                {p: rs.matched_by(p) for p, _ in page},
                notices,
                total_is_estimate=not rs.exact,
                has_more=len(ordered) > offset + limit,
                similarity={p: rs.similarity[p] for p, _ in page if p in rs.similarity},
            )

    def _result_set(
        self,
        pq: ParsedQuery,
        cons: Constraints,
        mode: str,
        floor: float,
        prefix: bool,
        notices: list[str],
    ) -> ResultSet:
        """The query's result set (search/resultset.py): the keyword part from the lexical
        index, the meaning part from the nearest papers at or above the floor."""
        rs = ResultSet(self.db, pq, cons, self.lexical, prefix=prefix, floor=floor)
        pool = (
            self.semantic_pool(pq, cons, SEMANTIC_POOL, notices, prefix=prefix)
            if mode != "lexical" and pq.has_text
            else None
        )
        if pool is None:  # keywords only (lexical mode, no words, or no semantic side)
            return rs  # |K| comes with the first page's search
        if mode == "semantic":
            scored = self.semantic_scores(pool, [])
            rs.lexical, rs.lexical_total = None, 0
            rs.similarity = {p: _similarity(s) for p, s in scored}
            rs.meaning = {p: v for p, v in rs.similarity.items() if v >= floor}
            return rs
        lex = self.lexical.search(pq, cons, limit=POOL, prefix=prefix)
        rs.lexical_total, rs.exact = lex.total, lex.exact
        lex_ids = {p for p, _ in lex.hits}
        rs.keyword_known |= lex_ids
        scored = self.semantic_scores(pool, lex.hits)
        rs.similarity = {p: _similarity(s) for p, s in scored}
        sem_ids = {p for p, _ in pool.hits}
        rs.meaning = {
            p: rs.similarity[p] for p in sem_ids if p in rs.similarity and rs.similarity[p] >= floor
        }
        # Semantic candidates in the keyword set (decided with the pool, by the index).
        found = {p for p in sem_ids if p not in lex_ids and p in pool.keyword}
        rs.keyword_known |= found
        keyword_sem = lex_ids | found
        if self.sentence_weight > 0 and self.fusion_params.method == "weighted":
            # Every candidate of both pools has a sentence-aware semantic score, min-max
            # normalized over the union by the fusion.
            fused = fusion.fuse(lex.hits, scored, self.fusion_params)
        else:
            lex_more, sem_more = self.completed_scores(pq, cons, lex.hits, pool, prefix)
            fused = fusion.fuse(
                lex.hits,
                pool.hits,
                self.fusion_params,
                lexical_more=lex_more,
                semantic_more=sem_more,
            )
        # Ranked like before, but only members: nearest papers below the floor that match no
        # keyword are not results.
        rs.head = [(p, s) for p, s in fused if p in keyword_sem or p in rs.meaning]
        return rs

    # ---- pages -----------------------------------------------------------------------------
    def search(
        self,
        query: str | ParsedQuery,
        *,
        mode: str = "hybrid",
        sort: str = "relevance",
        filters: SearchFilters | None = None,
        limit: int = 20,
        offset: int = 0,
        min_similarity: float | None = None,
    ) -> SearchResponse:
        """One page of the result set of ``query`` (see the module docstring)."""
        floor = self._floor(min_similarity)
        pq, ranking = self.rank(
            query,
            mode=mode,
            sort=sort,
            filters=filters,
            limit=limit,
            offset=offset,
            min_similarity=floor,
        )
        hits = build_hits(self.db, pq, ranking)
        effective_mode = mode
        if mode != "lexical" and self._semantic is None and pq.has_text:
            effective_mode = "lexical"
        notices = list(ranking.notices)
        suggestions: list[str] = []
        if not ranking.ids and offset == 0 and pq.has_text:
            from paperwire.search.suggest import empty_result_help

            extra, suggestions = empty_result_help(self.lexical, pq, effective_mode)
            notices += extra
        return SearchResponse(
            hits=hits,
            total=ranking.total,
            query=pq,
            notices=notices,
            mode=effective_mode,
            total_is_estimate=ranking.total_is_estimate,
            sort=sort,
            has_more=ranking.has_more,
            suggestions=suggestions,
            similarity_floor=floor,
        )

    def _floor(self, min_similarity: float | None) -> float:
        """The similarity floor of one call: ``min_similarity`` or the setting."""
        floor = self.settings.semantic_floor if min_similarity is None else min_similarity
        try:
            floor = float(floor)
        except (TypeError, ValueError):
            raise BadInput(f"min_similarity must be a number in [0, 1], got {floor!r}") from None
        if not 0.0 <= floor <= 1.0:
            raise BadInput(f"min_similarity must be within [0, 1], got {floor}")
        return floor

    def similar(self, paper_id: str, limit: int = 10) -> list[SearchHit]:
        """Nearest neighbours of a paper's embedding (itself excluded)."""
        from paperwire.store.papers import get_paper

        if not 0 < limit <= MAX_LIMIT:
            raise BadInput(f"limit must be between 1 and {MAX_LIMIT}")
        with self.db.session() as session:
            if get_paper(session, paper_id) is None:
                raise NotFound(f"no paper with id {paper_id!r}")
        sem = self.semantic()
        if sem is None:
            raise SemanticUnavailable(
                "similar papers need semantic search, which is "
                "unavailable: " + (self._semantic_error or PREPARING_NOTICE),
                preparing=self._semantic_error is None,
            )
        ranked = [(p, s) for p, s in sem.similar(paper_id, limit + 1) if p != paper_id][:limit]
        ranking = Ranking(
            ranked,
            len(ranked),
            {p: {"semantic"} for p, _ in ranked},
            [],
            similarity={p: _similarity(sc) for p, sc in ranked},
        )
        return build_hits(self.db, ParsedQuery(), ranking)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self._lock:
            if self._semantic is not None:
                try:
                    self._semantic.close()
                except Exception:
                    log.exception("closing the semantic index failed")
            self._semantic = None
        self.lexical.close()
        if self._shared is not None:
            self._shared.close()
        with _services_lock:
            for key, svc in list(_services.items()):
                if svc is self:
                    del _services[key]


_services: dict[tuple[Any, int], SearchService] = {}
_services_lock = threading.Lock()


def get_search_service(settings: Any, db: Any) -> SearchService:
    """The process-wide service for this settings + database (created on first use)."""
    key = (settings, id(db))
    with _services_lock:
        svc = _services.get(key)
        if svc is None or svc.db is not db:
            svc = SearchService(settings, db)
            _services[key] = svc
        return svc


def search(settings: Any, db: Any, query: str, **kwargs: Any) -> SearchResponse:
    """Convenience: ``get_search_service(settings, db).search(query, **kwargs)``."""
    return get_search_service(settings, db).search(query, **kwargs)


def close_all() -> None:
    """Close every service of this process (tests, shutdown)."""
    with _services_lock:
        services = list(_services.values())
    for svc in services:
        svc.close()
