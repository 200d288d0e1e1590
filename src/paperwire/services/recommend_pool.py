"""The candidate pool of the recommendations: the period's papers, sampled negatives, their
texts, vectors and features, built once and shared by every member's ranking
(``services.recommendations``).

Invariants: a pool is cached per (database, window day) in a ``PoolCache`` (one per process,
``CACHE``); a pool older than ``POOL_TTL_SECONDS`` is still served while one background thread
per key rebuilds it; yesterday's window is dropped when today's is kept. ``PoolCache.lists``
holds the per-list results of ``services.recommendations.for_list`` under the same lock and
is cleared with the pools.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from paperwire.config import Settings
from paperwire.recommend.features import (
    FeatureMatrix,
    PaperText,
    Vocabulary,
    build_features,
    paper_tokens,
)
from paperwire.store import Session
from paperwire.store import recommendations as store
from paperwire.store.db import Database
from paperwire.store.models import utcnow

log = logging.getLogger(__name__)

NEGATIVE_DAYS = 90
POOL_TTL_SECONDS = 600.0
LIST_CACHE_SIZE = 256


@dataclass
class Pool:
    since: dt.datetime
    candidates: list[str]
    negatives: list[str]
    features: FeatureMatrix
    vocabulary: Vocabulary
    texts: dict[str, PaperText]
    built_at: float

    def with_papers(self, rows: list[PaperText], vectors: dict[str, np.ndarray]) -> FeatureMatrix:
        """The pool's features plus rows for papers outside it (a member's older positives),
        weighted by the pool's vocabulary."""
        known = set(self.features.ids)
        extra = [r for r in rows if r.id not in known]
        if not extra:
            return self.features
        more = build_features(
            extra, vectors, dim=self.features.dense.shape[1], vocabulary=self.vocabulary
        )
        return FeatureMatrix.concat([self.features, more])


def paper_text(row: store.PaperRow) -> PaperText:
    return PaperText(row.id, row.title, row.abstract, row.categories, row.authors)


def vectors_for(session: Session, settings: Settings, ids: list[str]) -> dict[str, np.ndarray]:
    """The stored paper vectors of the configured model ({} without a model)."""
    from paperwire.search.embed import model_id_for
    from paperwire.store.embeddings import get_embeddings

    try:
        model_id = model_id_for(settings)
    except Exception as exc:  # noqa: BLE001 - no model: words alone still recommend
        log.warning("recommendations without paper vectors: %s", exc)
        return {}
    return get_embeddings(session, model_id, ids)


def window_start(settings: Settings, now: dt.datetime | None = None) -> dt.datetime:
    now = now or utcnow()
    day = (now - dt.timedelta(days=settings.recommend_days)).date()
    return dt.datetime.combine(day, dt.time())


def build_pool(session: Session, settings: Settings, since: dt.datetime) -> Pool:
    cand_rows = store.candidate_papers(session, since, settings.recommend_max_candidates)
    cand_ids = {r.id for r in cand_rows}
    neg_rows = [
        r
        for r in store.negative_pool(session, since, NEGATIVE_DAYS, settings.recommend_negatives)
        if r.id not in cand_ids
    ]
    texts = {r.id: paper_text(r) for r in cand_rows + neg_rows}
    papers = list(texts.values())
    vectors = vectors_for(session, settings, [p.id for p in papers])
    dim = next((len(v) for v in vectors.values()), 384)
    vocabulary = Vocabulary.fit([paper_tokens(p) for p in papers])
    features = build_features(papers, vectors, dim=dim, vocabulary=vocabulary)
    return Pool(
        since,
        [r.id for r in cand_rows],
        [r.id for r in neg_rows],
        features,
        vocabulary,
        texts,
        time.monotonic(),
    )


PoolKey = tuple[str, dt.datetime]  # (database URL, window start)


@dataclass
class PoolCache:
    """This process's pools and per-list results (see the module invariants)."""

    pools: dict[PoolKey, Pool] = field(default_factory=dict)
    refreshing: set[PoolKey] = field(default_factory=set)
    # for_list: key -> (monotonic time computed, recommendations); insertion order = age.
    lists: dict[tuple[Any, ...], tuple[float, list[Any]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def pool_for(
        self,
        session: Session,
        settings: Settings,
        *,
        now: dt.datetime | None = None,
        fresh: bool = False,
        db: Database | None = None,
    ) -> Pool:
        """The period's pool, cached per window day. Older than ``POOL_TTL_SECONDS``, it is
        still returned at once while a background thread rebuilds it (when ``db`` is given:
        a web request never waits for a rebuild, only for the first build of the day);
        ``fresh`` always rebuilds here (the nightly job)."""
        since = window_start(settings, now)
        key = (settings.effective_database_url, since)
        with self.lock:
            pool = self.pools.get(key)
        if pool is not None and not fresh:
            if time.monotonic() - pool.built_at < POOL_TTL_SECONDS:
                return pool
            if db is not None:
                self._refresh_in_background(key, settings, db, since)
                return pool
        pool = build_pool(session, settings, since)
        self._keep(key, pool)
        return pool

    def _keep(self, key: PoolKey, pool: Pool) -> None:
        with self.lock:
            for k in [k for k in self.pools if k[0] == key[0] and k != key]:
                del self.pools[k]  # yesterday's window is never read again
            self.pools[key] = pool

    def _refresh_in_background(
        self, key: PoolKey, settings: Settings, db: Database, since: dt.datetime
    ) -> None:
        with self.lock:
            if key in self.refreshing:
                return
            self.refreshing.add(key)

        def run() -> None:
            try:
                with db.session() as s:
                    self._keep(key, build_pool(s, settings, since))
            except Exception:  # noqa: BLE001 - the stale pool stays in use; logged
                log.exception("rebuilding the recommendation pool failed")
            finally:
                with self.lock:
                    self.refreshing.discard(key)

        threading.Thread(target=run, name="recommend-pool", daemon=True).start()

    def wait_for_refreshes(self, timeout: float = 60.0) -> None:
        """Block until background rebuilds are done (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if not self.refreshing:
                    return
            time.sleep(0.05)

    def get_list(self, key: tuple[Any, ...]) -> tuple[float, list[Any]] | None:
        with self.lock:
            return self.lists.get(key)

    def keep_list(self, key: tuple[Any, ...], recs: list[Any]) -> None:
        with self.lock:
            if len(self.lists) >= LIST_CACHE_SIZE:
                self.lists.pop(next(iter(self.lists)))  # the oldest entry
            self.lists[key] = (time.monotonic(), recs)

    def clear(self) -> None:
        with self.lock:
            self.pools.clear()
            self.lists.clear()


# The one cache of this process (web workers share pools across requests).
CACHE = PoolCache()


def pool_for(
    session: Session,
    settings: Settings,
    *,
    now: dt.datetime | None = None,
    fresh: bool = False,
    db: Database | None = None,
) -> Pool:
    """``CACHE.pool_for``."""
    return CACHE.pool_for(session, settings, now=now, fresh=fresh, db=db)


def wait_for_refreshes(timeout: float = 60.0) -> None:
    CACHE.wait_for_refreshes(timeout)


def clear_pools() -> None:
    CACHE.clear()
