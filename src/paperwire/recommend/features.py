"""Paper features for the recommender: the stored paper vector plus sparse lexical features.

A paper becomes one row of a ``FeatureMatrix``:

- ``dense``: its L2-normalised embedding (store/embeddings.py; the same vectors semantic search
  uses), or zeros when it has none yet (then only its words count);
- ``sparse``: hashed TF-IDF of its title and abstract stems (search/analyzer.py's ``stems``, so
  a word normalises here as it does in search) and of word pairs (bigrams), plus one feature per
  category (``cat:cs.CL``) and per author (``au:ada lovelace``), L2-normalised per group and
  weighted (``GROUP_WEIGHTS``).

Invariants:
- Pure and deterministic: the hash is CRC-32 (not Python's salted ``hash``), so the same paper
  gets the same row in every process; IDF comes from the papers featurised together (the
  member's training papers and the period's candidates), never from global state.
- Rows are L2-normalised within each part, so every row's squared norm is at most
  ``1 + LEXICAL_WEIGHT ** 2`` (the trainer's step size relies on it).
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import numpy as np

HASH_BITS = 20
DIM_SPARSE = 1 << HASH_BITS
# Relative weight of each sparse group inside the lexical part (before the part is normalised).
GROUP_WEIGHTS = {"word": 1.0, "pair": 0.5, "cat": 0.7, "author": 0.7}
# Weight of the lexical part relative to the (unit) embedding part.
LEXICAL_WEIGHT = 1.0


@dataclass(frozen=True)
class PaperText:
    """What the recommender reads of a paper besides its vector."""

    id: str
    title: str
    abstract: str = ""
    categories: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()


@dataclass
class SparseRows:
    """A CSR matrix in plain numpy: row ``i`` holds ``indices[indptr[i]:indptr[i+1]]``."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    dim: int = DIM_SPARSE

    @property
    def n(self) -> int:
        return len(self.indptr) - 1

    def row_ids(self) -> np.ndarray:
        """The row of every stored value."""
        return np.repeat(np.arange(self.n), np.diff(self.indptr))

    def take(self, rows: Sequence[int] | np.ndarray) -> "SparseRows":
        rows = np.asarray(rows, dtype=np.int64)
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        lengths = ends - starts
        indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        if len(rows) and lengths.sum():
            pos = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends)])
        else:
            pos = np.zeros(0, dtype=np.int64)
        return SparseRows(indptr, self.indices[pos], self.data[pos], self.dim)

    def dot(self, w: np.ndarray) -> np.ndarray:
        """``X @ w`` for a dense ``w`` of length ``dim``."""
        return np.bincount(self.row_ids(), weights=self.data * w[self.indices],
                           minlength=self.n)


@dataclass
class FeatureMatrix:
    ids: list[str]
    dense: np.ndarray          # (n, d) float32, unit rows or zeros
    sparse: SparseRows
    has_vector: np.ndarray     # (n,) bool

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def n_rows(self) -> int:
        return len(self.ids)

    def take(self, rows: Sequence[int] | np.ndarray) -> "FeatureMatrix":
        rows = np.asarray(rows, dtype=np.int64)
        return FeatureMatrix([self.ids[i] for i in rows], self.dense[rows],
                             self.sparse.take(rows), self.has_vector[rows])

    def index(self) -> dict[str, int]:
        return {pid: i for i, pid in enumerate(self.ids)}


def _h(token: str) -> int:
    return zlib.crc32(token.encode("utf-8")) & (DIM_SPARSE - 1)


def paper_tokens(paper: PaperText) -> dict[str, Counter]:
    """Tokens of a paper per group (pure; parametrised tests pin examples)."""
    from paperwire.search.analyzer import stems

    words = stems(f"{paper.title or ''} {paper.abstract or ''}")
    return {
        "word": Counter(words),
        "pair": Counter(f"{a} {b}" for a, b in zip(words, words[1:])),
        "cat": Counter(f"cat:{c.lower()}" for c in paper.categories if c),
        "author": Counter(f"au:{' '.join(a.lower().split())}" for a in paper.authors
                          if a and a.strip()),
    }


def lexical_rows(papers: Sequence[PaperText]) -> SparseRows:
    """Hashed, IDF-weighted, per-group-normalised sparse rows, ``LEXICAL_WEIGHT`` long."""
    tokens = [paper_tokens(p) for p in papers]
    df: Counter = Counter()
    for groups in tokens:
        for counts in groups.values():
            df.update(counts.keys())
    n = max(len(papers), 1)
    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    for groups in tokens:
        row: dict[int, float] = {}
        for group, counts in groups.items():
            if not counts:
                continue
            vals = {t: (1.0 + math.log(c)) * math.log((1 + n) / (1 + df[t])) + 1e-3
                    for t, c in counts.items()}
            norm = math.sqrt(sum(v * v for v in vals.values())) or 1.0
            gw = GROUP_WEIGHTS[group]
            for t, v in vals.items():
                k = _h(t)
                row[k] = row.get(k, 0.0) + gw * v / norm
        total = math.sqrt(sum(v * v for v in row.values())) or 1.0
        for k in sorted(row):
            indices.append(k)
            data.append(LEXICAL_WEIGHT * row[k] / total)
        indptr.append(len(indices))
    return SparseRows(np.asarray(indptr, dtype=np.int64), np.asarray(indices, dtype=np.int64),
                      np.asarray(data, dtype=np.float64))


def build_features(papers: Sequence[PaperText], vectors: dict[str, np.ndarray],
                   dim: int | None = None) -> FeatureMatrix:
    """One row per paper; papers without a vector get a zero dense part."""
    if dim is None:
        dim = next((len(v) for v in vectors.values()), 0)
    dense = np.zeros((len(papers), dim), dtype=np.float32)
    has = np.zeros(len(papers), dtype=bool)
    for i, p in enumerate(papers):
        v = vectors.get(p.id)
        if v is not None and len(v) == dim:
            norm = float(np.linalg.norm(v))
            if norm > 0:
                dense[i] = v / norm
                has[i] = True
    return FeatureMatrix([p.id for p in papers], dense, lexical_rows(papers), has)
