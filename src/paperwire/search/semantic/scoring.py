"""Scoring a query against the main generation and the delta (pure functions of them)."""

from __future__ import annotations

import numpy as np
from usearch.index import Index

from paperwire.search.semantic.delta import Delta
from paperwire.search.semantic.table import VectorTable, id_bytes


def ann(
    main: Index | None, table: VectorTable, delta: Delta, query: np.ndarray, k: int
) -> list[tuple[str, float]]:
    """Approximate top-k (paper id, cosine) over main (minus tombstones) and the delta."""
    scored: dict[str, float] = {}
    if main is not None and len(main):
        # Superseded entries (tombstones) still sit in the main graph and may crowd the
        # nearest hits: ask for more until k live ones come back or the graph is exhausted.
        size = len(main)
        want = min(k + min(len(delta.tombstones), 256), size)
        while True:
            matches = main.search(query, want)
            keys = np.asarray(matches.keys, dtype=np.uint64).reshape(-1)
            dists = np.asarray(matches.distances, dtype=np.float32).reshape(-1)
            rows = table.rows_of_keys(keys)
            live = [
                (row, dist)
                for key, row, dist in zip(keys.tolist(), rows.tolist(), dists.tolist())
                if row >= 0 and key not in delta.tombstones
            ]
            if len(live) >= k or want >= size or len(keys) < want:
                break
            want = min(size, want * 4)
        for row, dist in live:
            scored[table.ids[row].decode()] = 1.0 - float(dist)
    for pid, score in delta.search(query, k):
        scored[pid] = score
    return sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))[:k]


def exact(
    table: VectorTable, delta: Delta, query: np.ndarray, cands: list[str], k: int
) -> list[tuple[str, float]]:
    """Exact top-k (paper id, cosine) among ``cands`` (int8 rows of main, float delta)."""
    if not cands:
        return []
    qnorm = max(float(np.linalg.norm(query)), 1e-12)
    scores = np.full(len(cands), -np.inf, dtype=np.float32)
    if delta.keys:
        for i, pid in enumerate(cands):
            key = delta.keys.get(pid)
            if key is not None:
                scores[i] = float(delta.vecs[key] @ query) / qnorm
    rows = table.rows_of_ids(id_bytes(cands))
    usable = rows >= 0
    if delta.tombstones and usable.any():
        keys = np.zeros(len(cands), dtype=np.uint64)
        keys[usable] = table.keys[rows[usable]]
        usable &= ~np.isin(keys, np.fromiter(delta.tombstones, dtype=np.uint64))
    if usable.any():
        order = np.argsort(rows[usable], kind="stable")  # ascending rows: mmap locality
        rows_at = rows[usable][order]
        idx = np.flatnonzero(usable)[order]
        vecs = table.vecs[rows_at].astype(np.float32)
        scores[idx] = (vecs @ query) / table.norms[rows_at] / qnorm
    found = np.flatnonzero(np.isfinite(scores))
    if not len(found):
        return []
    top = found[np.argsort(-scores[found], kind="stable")[:k]]
    return [(cands[i], float(scores[i])) for i in top]
