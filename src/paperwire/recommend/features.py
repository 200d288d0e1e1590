"""Paper features for the recommender: the stored paper vector plus sparse lexical features.

A paper becomes one row of a ``FeatureMatrix``:

- ``dense``: its L2-normalised embedding (store/embeddings.py; the same vectors semantic search
  uses), or zeros when it has none yet (then only its words count);
- ``lexical``: TF-IDF of its title and abstract stems (search/analyzer.py's ``stems``, so a
  word normalises here as it does in search) and of word pairs (bigrams), plus one feature per
  category (``cat:cs.CL``) and per author (``au:ada lovelace``), L2-normalised per group,
  weighted (``GROUP_WEIGHTS``), and folded into ``LEXICAL_DIM`` dense columns by signed feature
  hashing (a count sketch: inner products are preserved in expectation, the error is about
  1/sqrt(LEXICAL_DIM) of the norms). Dense columns keep training and scoring to plain matrix
  products: a member's model is 4,480 numbers, and scoring a day for 10,000 members is one
  matrix multiplication (docs/benchmarks.md).

Invariants:
- Pure and deterministic: the hash is CRC-32 (not Python's salted ``hash``), so the same paper
  gets the same row in every process; IDF comes from a ``Vocabulary`` fitted on the papers in
  play (the period's candidates and the negatives), never from global state.
- Rows are L2-normalised within each part, so every row's squared norm is at most
  ``1 + LEXICAL_WEIGHT ** 2`` (the trainer's step size relies on it).
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

LEXICAL_DIM = 4096
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
class FeatureMatrix:
    ids: list[str]
    dense: np.ndarray  # (n, d) float32, unit rows or zeros: the paper vectors
    lexical: np.ndarray  # (n, LEXICAL_DIM) float32, rows of norm LEXICAL_WEIGHT or 0
    has_vector: np.ndarray  # (n,) bool

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def n_rows(self) -> int:
        return len(self.ids)

    def take(self, rows: Sequence[int] | np.ndarray) -> FeatureMatrix:
        rows = np.asarray(rows, dtype=np.int64)
        return FeatureMatrix(
            [self.ids[i] for i in rows], self.dense[rows], self.lexical[rows], self.has_vector[rows]
        )

    def index(self) -> dict[str, int]:
        return {pid: i for i, pid in enumerate(self.ids)}

    def stacked(self) -> np.ndarray:
        """(n, d + LEXICAL_DIM) float32: the model's input rows."""
        return np.hstack([self.dense, self.lexical])

    @staticmethod
    def concat(parts: Sequence[FeatureMatrix]) -> FeatureMatrix:
        return FeatureMatrix(
            [i for p in parts for i in p.ids],
            np.vstack([p.dense for p in parts]),
            np.vstack([p.lexical for p in parts]),
            np.concatenate([p.has_vector for p in parts]),
        )


def _slot(token: str) -> tuple[int, float]:
    """Column and sign of a token (signed hashing: collisions cancel out on average)."""
    h = zlib.crc32(token.encode("utf-8"))
    return h % LEXICAL_DIM, (1.0 if (h >> 31) & 1 else -1.0)


def paper_tokens(paper: PaperText) -> dict[str, Counter]:
    """Tokens of a paper per group (pure; parametrised tests pin examples)."""
    from paperwire.search.analyzer import stems

    words = stems(f"{paper.title or ''} {paper.abstract or ''}")
    return {
        "word": Counter(words),
        "pair": Counter(f"{a} {b}" for a, b in zip(words, words[1:])),
        "cat": Counter(f"cat:{c.lower()}" for c in paper.categories if c),
        "author": Counter(
            f"au:{' '.join(a.lower().split())}" for a in paper.authors if a and a.strip()
        ),
    }


@dataclass
class Vocabulary:
    """Document frequencies of the papers in play (the IDF of ``lexical_rows``)."""

    df: Counter
    n: int

    @classmethod
    def fit(cls, tokens: Sequence[dict[str, Counter]]) -> Vocabulary:
        df: Counter = Counter()
        for groups in tokens:
            for counts in groups.values():
                df.update(counts.keys())
        return cls(df, len(tokens))

    def idf(self, token: str) -> float:
        return math.log((1 + self.n) / (1 + self.df.get(token, 0))) + 1e-3


def lexical_rows(
    papers: Sequence[PaperText],
    vocabulary: Vocabulary | None = None,
    tokens: Sequence[dict[str, Counter]] | None = None,
) -> np.ndarray:
    """(n, LEXICAL_DIM) rows: per-group-normalised TF-IDF, hashed, of norm LEXICAL_WEIGHT
    (0 for a paper with no token). Without a vocabulary, IDF comes from ``papers``."""
    tokens = tokens if tokens is not None else [paper_tokens(p) for p in papers]
    vocab = vocabulary or Vocabulary.fit(tokens)
    out = np.zeros((len(tokens), LEXICAL_DIM), dtype=np.float32)
    for i, groups in enumerate(tokens):
        row = out[i]
        for group, counts in groups.items():
            if not counts:
                continue
            vals = {t: (1.0 + math.log(c)) * vocab.idf(t) for t, c in counts.items()}
            norm = math.sqrt(sum(v * v for v in vals.values())) or 1.0
            gw = GROUP_WEIGHTS[group] / norm
            for t, v in vals.items():
                col, sign = _slot(t)
                row[col] += sign * gw * v
        total = float(np.linalg.norm(row))
        if total > 0:
            row *= LEXICAL_WEIGHT / total
    return out


def build_features(
    papers: Sequence[PaperText],
    vectors: dict[str, np.ndarray],
    dim: int | None = None,
    vocabulary: Vocabulary | None = None,
) -> FeatureMatrix:
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
    return FeatureMatrix([p.id for p in papers], dense, lexical_rows(papers, vocabulary), has)
