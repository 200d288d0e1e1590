"""A member's (or a list's) linear model: L2-regularised logistic regression on paper features.

Like arxiv-sanity-lite's per-tag SVM, one small linear model per member and per list, trained
on the member's positive papers against sampled negatives, then used to score the period's
candidates. It is written in numpy alone (no scikit-learn in the serving install's declared
dependencies) and trained by Nesterov-accelerated gradient descent with a step size from the
loss's curvature bound, so it needs no tuning per member.

Invariants:
- Classes are balanced (positives and negatives each carry half the weight, like
  ``class_weight="balanced"``), so three positives against a thousand negatives still pull.
  Hard negatives ("not interested") weigh ``HARD_NEGATIVE_WEIGHT`` times a sampled negative.
- A model is one weight per input column (paper vector + hashed lexical columns, 4,480
  numbers for a 384-d model) and a bias: scoring is a matrix product.
- Deterministic: no randomness inside; the caller samples the negatives with a seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from paperwire.recommend.features import LEXICAL_WEIGHT, FeatureMatrix

L2 = 1e-3
ITERATIONS = 80
# Stop once the gradient's norm fell below this share of its first value (at 0.02 easily
# separated members stopped 15 % above the optimum's loss: a test holds it).
TOLERANCE = 1e-3
HARD_NEGATIVE_WEIGHT = 3.0


@dataclass
class LinearModel:
    weights: np.ndarray  # (d + LEXICAL_DIM,) float32
    bias: float
    n_positive: int
    n_negative: int
    iterations: int = 0

    def score(self, X: FeatureMatrix) -> np.ndarray:
        """Decision values (higher = more like the positives), one per row of ``X``."""
        d = X.dense.shape[1]
        return (X.dense @ self.weights[:d] + X.lexical @ self.weights[d:]).astype(
            np.float64
        ) + self.bias


def _curvature(A: np.ndarray, s: np.ndarray, rounds: int = 8) -> float:
    """Largest eigenvalue of the weighted second moment of the rows with a bias column (the
    logistic loss's curvature is at most a quarter of it), by power iteration, 10 % over the
    estimate; never above the bound from the row norms (1 + LEXICAL_WEIGHT^2 + 1 for the bias).
    The bound alone is ~3x the real value on paper features: steps that small need ~3x the
    iterations."""
    bound = 2.0 + LEXICAL_WEIGHT**2
    v = np.ones(A.shape[1] + 1, dtype=np.float32) / np.sqrt(A.shape[1] + 1)
    lam = bound
    for _ in range(rounds):
        u = (A @ v[:-1] + v[-1]) * s
        v = np.r_[A.T @ u.astype(np.float32), u.sum()].astype(np.float32)
        lam = float(np.linalg.norm(v))
        if lam == 0:
            return bound
        v /= lam
    return min(bound, 1.1 * lam)


def train(
    X: FeatureMatrix,
    labels: np.ndarray,
    *,
    hard: np.ndarray | None = None,
    l2: float = L2,
    iterations: int = ITERATIONS,
    tolerance: float = TOLERANCE,
) -> LinearModel:
    """Fit on rows of ``X`` labelled 1 (positive) / 0 (negative); ``hard`` marks negatives
    that weigh more. Raises ValueError without at least one row of each class."""
    y = np.asarray(labels, dtype=np.float64)
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    if not n_pos or not n_neg:
        raise ValueError("training needs at least one positive and one negative paper")
    s = np.where(y == 1, 0.5 / n_pos, 1.0)
    if hard is not None:
        s = np.where((y == 0) & np.asarray(hard, dtype=bool), HARD_NEGATIVE_WEIGHT, s)
    neg = y == 0
    s[neg] = 0.5 * s[neg] / s[neg].sum()

    A = X.stacked()
    step = 1.0 / (0.25 * _curvature(A, s) + l2)
    w = np.zeros(A.shape[1], dtype=np.float32)
    b = 0.0
    vw, vb = w.copy(), b
    t = 1.0
    first = None
    done = 0
    for done in range(1, iterations + 1):  # noqa: B007 - read after the loop
        z = (A @ vw).astype(np.float64) + vb
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -35, 35)))
        g = s * (p - y)
        gw = A.T @ g.astype(np.float32) + l2 * vw
        gb = float(g.sum())
        norm = float(np.sqrt(gw @ gw + gb * gb))
        if first is None:
            first = norm
        elif norm <= tolerance * first:
            break
        nw, nb = vw - step * gw, vb - step * gb
        t_next = (1 + np.sqrt(1 + 4 * t * t)) / 2
        mom = (t - 1) / t_next
        vw, vb = nw + mom * (nw - w), nb + mom * (nb - b)
        w, b, t = nw, nb, t_next
    return LinearModel(w.astype(np.float32), float(b), n_pos, n_neg, done)
