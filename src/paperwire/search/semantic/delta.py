"""The in-memory part of a semantic index: entries newer than the main generation.

Entries applied since the generation was written live in a small HNSW graph of their own
(``graph``) under the paper's surrogate key; a paper also present in the memory-mapped main
generation is masked there by a tombstone (its key), until the writer folds the delta into a
new generation (compaction).
"""

from __future__ import annotations

import numpy as np
from usearch.index import Index

from paperwire.search.semantic.graph import insert, new_graph


class Delta:
    """Keys, ids and float vectors of the entries not in the main generation. Not
    thread-safe: the index serializes access."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.graph: Index | None = None
        self.ids: dict[int, str] = {}
        self.keys: dict[str, int] = {}
        self.vecs: dict[int, np.ndarray] = {}
        self.tombstones: set[int] = set()

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def changes(self) -> int:
        """Entries a compaction would fold (added or superseded)."""
        return len(self.ids) + len(self.tombstones)

    def upsert(
        self, keys: np.ndarray, ids: list[str], vectors: np.ndarray, in_main: np.ndarray
    ) -> None:
        """Add (or replace) entries; ``in_main`` marks keys the main generation holds."""
        if self.graph is None:
            self.graph = new_graph(self.dim)
        replace = [int(k) for k in keys if int(k) in self.ids]
        if replace:
            self.graph.remove(np.array(replace, dtype=np.uint64))
        self.tombstones.update(int(k) for k in keys[in_main])
        # One batch names a paper once (primary key), so keys are unique here.
        insert(self.graph, keys, vectors)
        for key, pid, vec in zip(keys.tolist(), ids, vectors):
            self.ids[key] = pid
            self.keys[pid] = key
            self.vecs[key] = np.array(vec, dtype=np.float32)

    def search(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        """(paper id, cosine) of the delta's nearest entries."""
        if self.graph is None or not len(self.graph):
            return []
        matches = self.graph.search(query, min(k, len(self.graph)))
        out = []
        for key, dist in zip(
            np.asarray(matches.keys).reshape(-1).tolist(),
            np.asarray(matches.distances).reshape(-1).tolist(),
        ):
            pid = self.ids.get(key)
            if pid is not None:
                out.append((pid, 1.0 - float(dist)))
        return out
