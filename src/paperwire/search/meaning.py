"""The meaning half of ``SearchService`` (search/service.py): the semantic index and encoder
(loaded lazily), the query-vector cache, a query's semantic pool and the semantic scores of
its candidates (paper cosine, sentence re-scoring, score completion).

Invariants:
- Nothing is kept per thread: the query vector travels in the ``SemanticPool`` that
  ``semantic_pool`` returns, and every scoring step takes that pool.
- A pool's papers pass the query's constraints (filters, exclusions, phrases), decided by the
  lexical index (``LexicalIndex.members``), so hidden papers never enter by meaning.
- Loading the semantic side never blocks a search: until it is ready, searches are
  keyword-only and say so (``PREPARING_NOTICE``).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from paperwire.search import fusion
from paperwire.search.cache import RankingCache
from paperwire.search.filters import Constraints
from paperwire.search.lexical import LexicalIndex
from paperwire.search.query import ParsedQuery

log = logging.getLogger(__name__)

SEMANTIC_POOL = 100  # nearest papers considered for entering by meaning (query.py, 2.)
FILTER_CANDIDATES = 5_000  # filtered semantic search is exact below this many matches
QUERY_VECTOR_CACHE = 1024  # query embeddings kept per process (LRU)
PREPARING_NOTICE = (
    "The search model is still being prepared (first start, a few minutes): "
    "results are keyword-only for now."
)


@dataclass(frozen=True)
class SemanticPool:
    """The meaning side of one query: its nearest papers that pass the query's constraints
    (best first), the query vector they were found with, and which of them are in the
    query's keyword set. Passed explicitly between the ranking steps (no per-thread state)."""

    hits: list[tuple[str, float]]
    vector: np.ndarray
    keyword: frozenset[str] = frozenset()


class MeaningSide:
    """The semantic half of ``SearchService`` (a base class: the service's ``__init__`` sets
    these attributes)."""

    settings: Any
    db: Any
    lexical: LexicalIndex
    fusion_params: fusion.FusionParams
    sentence_weight: float
    complete_scores: bool
    _semantic: Any
    _semantic_error: str | None
    _encoder: Any
    _loading: bool
    _query_vectors: OrderedDict[str, np.ndarray]
    _rankings: RankingCache[Any]
    _candidates: RankingCache[tuple[list[str] | None]]
    _lock: threading.RLock

    @property
    def semantic_error(self) -> str | None:
        """Why the semantic side is unavailable for good, or None (ready, or still loading)."""
        return self._semantic_error

    def semantic(self) -> Any:
        """The SemanticIndex (with its encoder ready), or None: not ready yet, or unavailable
        with a reason in ``_semantic_error``.

        Never makes a caller wait for another thread's loading: loading may export the model
        (minutes on a fresh data dir), and meanwhile searches answer keyword-only and say so
        (before, every search thread queued on the lock behind the warm-up's export)."""
        with self._lock:
            if self._semantic is not None or self._semantic_error is not None or self._loading:
                return self._semantic
            self._loading = True
        from paperwire.search.embed import ModelNotReady, get_encoder
        from paperwire.search.semantic import SemanticIndex

        encoder = semantic = error = None
        try:
            encoder = get_encoder(self.settings)
            semantic = SemanticIndex(self.settings, self.db)
        except ModelNotReady:
            # First start: the model is prepared in the background; not an error, asked
            # again by the next query.
            pass
        except Exception as exc:  # noqa: BLE001 - degrade to lexical, say why
            log.warning("semantic search unavailable: %s", exc)
            error = str(exc)
        finally:
            with self._lock:
                self._loading = False
                if semantic is not None:
                    self._encoder, self._semantic = encoder, semantic
                elif error is not None:
                    self._semantic_error = error
        return semantic

    def semantic_pool(
        self,
        pq: ParsedQuery,
        cons: Constraints,
        k: int = SEMANTIC_POOL,
        notices: list[str] | None = None,
        *,
        prefix: bool = True,
    ) -> SemanticPool | None:
        """The query's ``k`` nearest papers that pass its constraints (filters, exclusions,
        phrases), or None without a semantic side (the reason is appended to ``notices``)."""
        notices = notices if notices is not None else []
        sem = self.semantic()
        if sem is None and self._semantic_error is None:
            notices.append(PREPARING_NOTICE)
            return None
        if sem is None:
            notices.append(
                "Semantic search is unavailable ("
                + (self._semantic_error or "?")
                + "); showing keyword results."
            )
            return None
        vec = self._query_vector(pq.text)
        filters_only = Constraints(
            categories=cons.categories,
            authors=cons.authors,
            date_from=cons.date_from,
            date_to=cons.date_to,
            paper_ids=cons.paper_ids,
            has=cons.has,
        )
        ids = self._filtered_candidates(filters_only) if filters_only.active else None
        if ids is not None:
            # Few papers pass the filters: rank exactly among them.
            if not ids:
                return SemanticPool([], vec)
            ranked = list(sem.search(vec, k, candidate_ids=ids))
        else:
            # Over-fetch, then keep what is visible and passes the filters (the index decides,
            # so hidden papers never reach the page).
            ranked = list(sem.search(vec, k * (5 if filters_only.active else 1) + 10))
        # Constraints hold for papers found by meaning too: filters, exclusions and phrases.
        # The same index pass tells which of them match the query's words (keyword members).
        keep, matching = self.lexical.members(pq, cons, [p for p, _ in ranked], prefix=prefix)
        hits = [(p, s) for p, s in ranked if p in keep][:k]
        return SemanticPool(hits, vec, frozenset(p for p, _ in hits if p in matching))

    def prime_query_vectors(self, texts: Iterable[str]) -> int:
        """Embed, in batches, the texts not yet in the query-vector cache; returns how many
        were embedded. A digest primes each batch of subscribers' topics this way: one
        encoder call for a few hundred short queries costs a fraction of one call each.

        At most half the cache is primed per call, so a call never evicts its own vectors
        before the searches that follow it use them. Nothing happens until the semantic side
        is ready (searches are keyword-only until then and embed nothing)."""
        if self.semantic() is None or self._encoder is None:
            return 0
        with self._lock:
            need = [t for t in dict.fromkeys(texts) if t and t not in self._query_vectors]
        need = need[: QUERY_VECTOR_CACHE // 2]
        if not need:
            return 0
        vecs = np.asarray(self._encoder.encode(need), dtype=np.float32)
        with self._lock:
            for text, vec in zip(need, vecs, strict=True):
                vec = vec.copy()
                vec.setflags(write=False)
                self._query_vectors[text] = vec
            while len(self._query_vectors) > QUERY_VECTOR_CACHE:
                self._query_vectors.popitem(last=False)
        return len(need)

    def _filtered_candidates(self, filters_only: Constraints) -> list[str] | None:
        """The papers passing these filters when at most ``FILTER_CANDIDATES`` do (else
        None), cached per index version: a digest asks it for each of its thousands of
        topics with the same candidate set."""
        try:
            hash(filters_only)
            version: tuple[object, ...] | None = self.lexical.version()
        except TypeError:  # a caller's list in the filters: not a key, not cached
            version = None
        cached = self._candidates.get(filters_only, version) if version is not None else None
        if cached is not None:
            return cached[0]
        ids: list[str] | None = None
        if self.lexical.count(filters_only) <= FILTER_CANDIDATES:
            hits = self.lexical.search(ParsedQuery(), filters_only, limit=FILTER_CANDIDATES).hits
            ids = [p for p, _ in hits]
        if version is not None:
            self._candidates.put(filters_only, version, (ids,))
        return ids

    def _query_vector(self, text: str) -> np.ndarray:
        """The query's embedding, from a small per-process LRU (the same query is embedded
        again for every page, mode switch and refresh; vectors are read-only)."""
        with self._lock:
            vec = self._query_vectors.get(text)
            if vec is not None:
                self._query_vectors.move_to_end(text)
                return vec
        vec = np.asarray(self._encoder.encode_query(text), dtype=np.float32)
        vec.setflags(write=False)
        with self._lock:
            self._query_vectors[text] = vec
            while len(self._query_vectors) > QUERY_VECTOR_CACHE:
                self._query_vectors.popitem(last=False)
        return vec

    def _exact_cosines(
        self, pool: SemanticPool, lex_hits: Sequence[tuple[str, float]]
    ) -> list[tuple[str, float]]:
        """The pool plus the lexical-only candidates with their exact paper cosine."""
        cands = list(pool.hits)
        have = {p for p, _ in pool.hits}
        need = [p for p, _ in lex_hits if p not in have]
        if need and self._semantic is not None:
            cands += self._semantic.search(pool.vector, len(need), candidate_ids=need)
        return cands

    def semantic_scores(
        self, pool: SemanticPool, lex_hits: Sequence[tuple[str, float]]
    ) -> list[tuple[str, float]]:
        """Semantic scores of the pool and the lexical candidates: sentence-aware
        (``sentence_scores``) or, with ``sentence_weight`` 0, the exact paper cosine."""
        if self.sentence_weight > 0:
            return self.sentence_scores(pool, lex_hits)
        return sorted(self._exact_cosines(pool, lex_hits), key=lambda kv: (-kv[1], kv[0]))

    def sentence_scores(
        self, pool: SemanticPool, lex_hits: Sequence[tuple[str, float]]
    ) -> list[tuple[str, float]]:
        """The pool plus the lexical-only candidates (their exact paper cosine), re-scored
        with the papers' stored sentence vectors (search/sentences.py).

        Reads the sentence rows of these ~200 papers only (one query per 500 ids).
        Candidates not in the semantic index are left out (semantic score 0 in fusion);
        those without sentence rows keep their paper cosine.
        """
        from paperwire.search.sentences import max_sentence_cosine, rescore
        from paperwire.store.sentences import get_sentence_vectors

        if self._semantic is None:
            return list(pool.hits)
        cands = self._exact_cosines(pool, lex_hits)
        query = np.asarray(pool.vector, dtype=np.float32)
        query = query / max(float(np.linalg.norm(query)), 1e-12)
        with self.db.engine.connect() as conn:  # plain column reads: no ORM session
            stored = get_sentence_vectors(conn, self._encoder.model_id, [p for p, _ in cands])
        best = {}
        for pid, vecs in stored.items():
            b = max_sentence_cosine(query, vecs)
            if b is not None:
                best[pid] = b
        return rescore(cands, best, self.sentence_weight)

    def completed_scores(
        self,
        pq: ParsedQuery,
        cons: Constraints,
        lex_hits: Sequence[tuple[str, float]],
        pool: SemanticPool,
        prefix: bool = True,
    ) -> tuple[dict[str, float] | None, dict[str, float] | None]:
        """Real scores of each side's candidates on the other side (score completion):
        BM25 of semantic candidates, cosine of lexical candidates. (None, None) unless
        ``complete_scores`` is on with weighted fusion."""
        if self.fusion_params.method != "weighted" or not self.complete_scores:
            return None, None
        lex_ids = {p for p, _ in lex_hits}
        sem_ids = {p for p, _ in pool.hits}
        need_sem = [p for p, _ in lex_hits if p not in sem_ids]
        need_lex = [p for p, _ in pool.hits if p not in lex_ids]
        sem_more: dict[str, float] = {}
        if need_sem and self._semantic is not None:
            sem_more = dict(
                self._semantic.search(pool.vector, len(need_sem), candidate_ids=need_sem)
            )
        lex_more = self.lexical.score_ids(pq, cons, need_lex, prefix=prefix)
        return lex_more, sem_more

    def forget_query_vectors(self) -> None:
        """Drop the cached query embeddings, rankings and filtered candidate lists (a
        benchmark's timed query pays for itself)."""
        with self._lock:
            self._query_vectors.clear()
        self._rankings.clear()
        self._candidates.clear()
