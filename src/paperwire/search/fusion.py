"""Fusing the lexical and semantic ranked lists into one.

Two methods, both pure functions of the two lists:
- ``rrf``: reciprocal-rank fusion, sum of 1/(k + rank).
- ``weighted`` (default): each list's scores are min-max normalized over its own top-K, then
  combined as ``alpha * lexical + (1 - alpha) * semantic`` (a paper missing from one list gets
  0 from it). A lexical match's normalized score starts at ``lexical_floor``, so papers that
  contain the query words rise above papers merely close in meaning. ``alpha`` and
  ``lexical_floor`` were tuned on the SciFact *train* split only (see bench/relevance.py and
  docs/benchmarks.md).

Invariant: the output holds every paper of either input exactly once, best first; ties are
broken by paper id so results are deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

Ranked = Sequence[tuple[str, float]]


@dataclass(frozen=True)
class FusionParams:
    method: str = "weighted"
    alpha: float = 0.5      # weight of the lexical side (weighted)
    rrf_k: int = 60         # RRF constant
    # Normalized lexical score of the weakest lexical match (weighted): papers that contain
    # the query words are lifted above papers that are only close in meaning.
    lexical_floor: float = 0.0

    def __post_init__(self) -> None:
        if self.method not in ("weighted", "rrf"):
            raise ValueError(f"unknown fusion method {self.method!r}")
        if not 0.0 <= self.lexical_floor <= 1.0:
            raise ValueError("lexical_floor must be within [0, 1]")
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError("alpha must be within [0, 1]")


DEFAULT_PARAMS = FusionParams()


def _minmax(ranked: Ranked) -> dict[str, float]:
    if not ranked:
        return {}
    scores = [s for _, s in ranked]
    lo, hi = min(scores), max(scores)
    if hi - lo <= 1e-12:
        return {pid: 1.0 for pid, _ in ranked}
    return {pid: (s - lo) / (hi - lo) for pid, s in ranked}


def weighted(lexical: Ranked, semantic: Ranked, alpha: float,
             lexical_floor: float = 0.0) -> list[tuple[str, float]]:
    lex, sem = _minmax(lexical), _minmax(semantic)
    if lexical_floor:
        lex = {pid: lexical_floor + (1 - lexical_floor) * v for pid, v in lex.items()}
    fused = {pid: alpha * lex.get(pid, 0.0) + (1 - alpha) * sem.get(pid, 0.0)
             for pid in {**lex, **sem}}
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))


def rrf(lexical: Ranked, semantic: Ranked, k: int = 60) -> list[tuple[str, float]]:
    fused: dict[str, float] = {}
    for ranked in (lexical, semantic):
        for rank, (pid, _score) in enumerate(ranked, start=1):
            fused[pid] = fused.get(pid, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))


def fuse(lexical: Ranked, semantic: Ranked,
         params: FusionParams = DEFAULT_PARAMS) -> list[tuple[str, float]]:
    if params.method == "rrf":
        return rrf(lexical, semantic, params.rrf_k)
    return weighted(lexical, semantic, params.alpha, params.lexical_floor)
