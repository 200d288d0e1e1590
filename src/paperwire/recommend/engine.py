"""Rank a period's candidate papers for one member (or one of their lists), with reasons.

Pure: papers, vectors and signals in, ranked recommendations out (the service reads the
database and calls this; the benchmark calls it on simulated members).

Rules, in order:
1. Excluded: the member's positive papers, papers marked "not interested", and candidates
   whose vector is a near duplicate of a "not interested" paper (cosine >=
   ``reasons.NEAR_DUPLICATE_COSINE``).
2. With at least ``MIN_POSITIVES`` positives (upvotes, saves, list items, "more like this"),
   a linear model (model.py) trained on them against the sampled negatives ("not interested"
   as hard negatives) scores the candidates.
3. Cold start (fewer positives): the candidates that the member's followed authors wrote, that
   their followed topics find (the site's search, run by the caller) and the nearest
   neighbours of their few positives (vector cosine + lexical cosine), taken in turn from each
   source (round robin), so no single source crowds out the others.
4. Each recommendation carries the reason that explains it best: the nearest positive (vector
   + lexical cosine) as "because you saved …" or "close to your list …"; in cold
   start, the source that found it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from paperwire.recommend.features import LEXICAL_WEIGHT, FeatureMatrix
from paperwire.recommend.model import train
from paperwire.recommend.reasons import NEAR_DUPLICATE_COSINE, Reason, near_duplicates

MIN_POSITIVES = 3
# Positive kinds in the order a reason prefers them when one paper is several (saved beats
# upvoted: a save is the stronger statement).
_KIND_ORDER = ("more_like_this", "saved", "upvoted", "list")


@dataclass(frozen=True)
class Positive:
    paper_id: str
    kind: str  # saved | upvoted | more_like_this | list
    title: str
    list_name: str | None = None


@dataclass
class Signals:
    positives: list[Positive] = field(default_factory=list)
    not_interested: list[str] = field(default_factory=list)
    # Cold start helpers, found by the caller among the candidates, best first.
    topic_hits: dict[str, list[str]] = field(default_factory=dict)  # topic -> paper ids
    author_hits: dict[str, list[str]] = field(default_factory=dict)  # author -> paper ids


@dataclass(frozen=True)
class Recommendation:
    paper_id: str
    score: float
    reason: Reason


def best_positive(positives: Sequence[Positive]) -> dict[str, Positive]:
    """One positive per paper: the strongest kind (a saved paper also upvoted reads 'saved')."""
    out: dict[str, Positive] = {}
    for p in positives:
        cur = out.get(p.paper_id)
        rank = _KIND_ORDER.index(p.kind) if p.kind in _KIND_ORDER else len(_KIND_ORDER)
        if cur is None or rank < _KIND_ORDER.index(cur.kind):
            out[p.paper_id] = p
    return out


def _reason_for(pos: Positive) -> Reason:
    if pos.kind == "list":
        return Reason("list", pos.list_name or "a list", pos.paper_id)
    return Reason(pos.kind, pos.title, pos.paper_id)


def recommend(
    X: FeatureMatrix,
    candidates: Sequence[str],
    signals: Signals,
    negatives: Sequence[str],
    *,
    limit: int = 30,
    min_positives: int = MIN_POSITIVES,
    near_duplicate: float = NEAR_DUPLICATE_COSINE,
) -> list[Recommendation]:
    """Ranked recommendations among ``candidates`` (ids of rows of ``X``; ``X`` also holds the
    positives, negatives and rejected papers that have features)."""
    idx = X.index()
    positives = best_positive([p for p in signals.positives if p.paper_id in idx])
    rejected = set(signals.not_interested)
    excluded = set(positives) | rejected
    cand = [c for c in dict.fromkeys(candidates) if c in idx and c not in excluded]
    if not cand:
        return []
    rows = np.array([idx[c] for c in cand])
    rej_rows = [idx[r] for r in rejected if r in idx and X.has_vector[idx[r]]]
    if rej_rows:
        dup = near_duplicates(X.dense[rows], X.has_vector[rows], X.dense[rej_rows], near_duplicate)
        rows = rows[~dup]
        cand = [c for c, d in zip(cand, dup) if not d]
    if not cand:
        return []
    pos_ids = list(positives)
    pos_rows = np.array([idx[p] for p in pos_ids], dtype=np.int64)

    if len(pos_ids) >= min_positives:
        neg = [
            n
            for n in dict.fromkeys(list(negatives) + list(rejected))
            if n in idx and n not in positives
        ]
        if neg:
            train_rows = np.concatenate([pos_rows, [idx[n] for n in neg]])
            labels = np.r_[np.ones(len(pos_rows)), np.zeros(len(neg))]
            hard = np.r_[np.zeros(len(pos_rows), bool), [n in rejected for n in neg]]
            model = train(X.take(train_rows), labels, hard=hard)
            scores = model.score(X.take(rows))
            order = np.argsort(-scores, kind="stable")[:limit]
            near = _nearest_positive(X, rows[order], pos_rows)
            return [
                Recommendation(cand[i], float(scores[i]), _reason_for(positives[pos_ids[j]]))
                for i, j in zip(order, near)
            ]
    return _cold_start(X, cand, rows, positives, pos_rows, signals, limit)


def _similarity(X: FeatureMatrix, rows: np.ndarray, pos_rows: np.ndarray) -> np.ndarray:
    """(len(rows), len(pos_rows)) similarities: vector cosine (where both papers have a
    vector) plus the cosine of their lexical features (words, categories, authors), so a
    paper by the same authors or in the same category is nearer than one merely on a
    neighbouring subject."""
    sims = X.dense[rows] @ X.dense[pos_rows].T
    return sims + (X.lexical[rows] @ X.lexical[pos_rows].T) / (LEXICAL_WEIGHT**2)


def _nearest_positive(X: FeatureMatrix, rows: np.ndarray, pos_rows: np.ndarray) -> np.ndarray:
    if not len(rows):
        return np.zeros(0, dtype=np.int64)
    return _similarity(X, rows, pos_rows).argmax(axis=1)


def _cold_start(X, cand, rows, positives, pos_rows, signals, limit) -> list[Recommendation]:
    allowed = set(cand)
    sources: list[list[tuple[str, Reason]]] = []
    for author, ids in signals.author_hits.items():
        sources.append([(p, Reason("author", author)) for p in ids if p in allowed])
    for topic, ids in signals.topic_hits.items():
        sources.append([(p, Reason("topic", topic)) for p in ids if p in allowed])
    if len(pos_rows):
        pos_ids = list(positives)
        sims = _similarity(X, rows, pos_rows)
        for j, pid in enumerate(pos_ids):
            order = np.argsort(-sims[:, j], kind="stable")
            sources.append([(cand[i], _reason_for(positives[pid])) for i in order[:limit]])
    out: list[Recommendation] = []
    seen: set[str] = set()
    depth = 0
    while len(out) < limit and any(depth < len(s) for s in sources):
        for s in sources:
            if depth < len(s) and s[depth][0] not in seen and len(out) < limit:
                pid, reason = s[depth]
                seen.add(pid)
                out.append(Recommendation(pid, 1.0 / (1 + depth), reason))
        depth += 1
    return out
