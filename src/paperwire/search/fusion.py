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

from collections.abc import Callable, Sequence
from dataclasses import dataclass

Ranked = Sequence[tuple[str, float]]


@dataclass(frozen=True)
class FusionParams:
    method: str = "weighted"
    alpha: float = 0.5  # weight of the lexical side (weighted)
    rrf_k: int = 60  # RRF constant
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


# Tuned on SciFact train by 5-fold CV (bench/relevance.py), within the region where papers
# containing the query words stay above papers only close in meaning (lexical_floor >= 0.4).
DEFAULT_PARAMS = FusionParams(method="weighted", alpha=0.7, lexical_floor=0.4)


def _minmax(ranked: Ranked) -> dict[str, float]:
    if not ranked:
        return {}
    scores = [s for _, s in ranked]
    lo, hi = min(scores), max(scores)
    if hi - lo <= 1e-12:
        return {pid: 1.0 for pid, _ in ranked}
    return {pid: (s - lo) / (hi - lo) for pid, s in ranked}


def _scaler(ranked: Ranked) -> Callable[[float], float]:
    """Min-max scaling fitted on one side's own top-K (so completed scores of papers outside
    the top-K may fall below 0)."""
    if not ranked:
        return lambda s: 0.0
    scores = [s for _, s in ranked]
    lo, hi = min(scores), max(scores)
    if hi - lo <= 1e-12:
        return lambda s: 1.0 if s >= hi else 0.0
    return lambda s: (s - lo) / (hi - lo)


def weighted(
    lexical: Ranked,
    semantic: Ranked,
    alpha: float,
    lexical_floor: float = 0.0,
    *,
    lexical_more: dict[str, float] | None = None,
    semantic_more: dict[str, float] | None = None,
) -> list[tuple[str, float]]:
    """``lexical_more`` / ``semantic_more``: real scores of the other side's candidates
    (score completion). Without them a paper missing from a side gets 0 from it; with them it
    gets its real score, scaled like that side's top-K (a lexical non-match counts as BM25 0)."""
    lex_scale, sem_scale = _scaler(lexical), _scaler(semantic)
    lex_raw = dict(lexical)
    sem_raw = dict(semantic)
    completed = False
    if lexical_more is not None and semantic_more is not None:
        completed = True
        for pid, s in lexical_more.items():
            lex_raw.setdefault(pid, s)
        for pid, s in semantic_more.items():
            sem_raw.setdefault(pid, s)
    fused: dict[str, float] = {}
    for pid in {**dict(lexical), **dict(semantic)}:
        if pid in lex_raw:
            lv = lex_scale(lex_raw[pid])
            if lexical_floor:
                lv = lexical_floor + (1 - lexical_floor) * lv
        else:
            lv = lex_scale(0.0) if completed and lexical else 0.0
        if pid in sem_raw:
            sv = sem_scale(sem_raw[pid])
        else:
            sv = 0.0
        fused[pid] = alpha * lv + (1 - alpha) * sv
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))


def rrf(lexical: Ranked, semantic: Ranked, k: int = 60) -> list[tuple[str, float]]:
    fused: dict[str, float] = {}
    for ranked in (lexical, semantic):
        for rank, (pid, _score) in enumerate(ranked, start=1):
            fused[pid] = fused.get(pid, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))


def fuse(
    lexical: Ranked,
    semantic: Ranked,
    params: FusionParams = DEFAULT_PARAMS,
    *,
    lexical_more: dict[str, float] | None = None,
    semantic_more: dict[str, float] | None = None,
) -> list[tuple[str, float]]:
    if params.method == "rrf":
        return rrf(lexical, semantic, params.rrf_k)
    return weighted(
        lexical,
        semantic,
        params.alpha,
        params.lexical_floor,
        lexical_more=lexical_more,
        semantic_more=semantic_more,
    )
