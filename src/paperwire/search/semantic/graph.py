"""The HNSW graphs (usearch, int8, cosine) and the int8 quantization both sides share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from usearch.index import Index

SEMANTIC_SCORE = "cosine similarity in [-1, 1] (higher = closer)"
HNSW: dict[str, Any] = dict(connectivity=16, expansion_add=128, expansion_search=64)
# Search-time beam width: at 1M papers 256 lifts recall@10 vs exact from 0.78 to 0.82 for
# +0.15 ms p50 (bench/semantic_memory.py; docs/benchmarks.md).
EXPANSION_SEARCH = 256


@dataclass(frozen=True)
class VectorSpace:
    """What an index needs to know of its encoder when vectors come from elsewhere
    (synthetic benchmark vectors, tools): ``search_text`` needs a real ``Encoder``."""

    model_id: str
    dim: int


def new_graph(dim: int) -> Index:
    return Index(ndim=dim, metric="cos", dtype="i8", **HNSW)


def insert(graph: Index, keys: np.ndarray, vectors: np.ndarray) -> None:
    """Add vectors to an HNSW graph one at a time, so every added node is reachable by search.

    usearch's parallel ``add`` (``threads`` != 1: its default uses every core) can strand
    nodes: they are stored (``contains``/``get`` work) but no search ever visits them, at any
    ``expansion_search`` (unum-cloud/USearch#735, unfixed in 2.26.6). Measured here: 2-4 of
    20,000 nodes per build, and kill -9 restarts reloading such a generation missed papers.
    Sequential insertion never did in the same measurements; it costs build speed only on an
    otherwise idle machine (a parallel build barely gains on 2 busy cores).
    """
    graph.add(keys, vectors, threads=1)


def restore(path: str, *, view: bool) -> Index | None:
    """A saved graph, memory-mapped (``view``) or loaded, with the search beam width set."""
    graph = Index.restore(path, view=view)
    if graph is not None:
        graph.expansion_search = EXPANSION_SEARCH  # type: ignore[misc]  # settable at runtime
    return graph


def quantize(vecs: np.ndarray) -> np.ndarray:
    """Unit float vectors -> int8 (x127), the same scaling usearch's i8 storage uses."""
    scaled = np.rint(np.asarray(vecs, dtype=np.float32) * 127.0)
    out: np.ndarray = np.clip(scaled, -127, 127).astype(np.int8)
    return out
