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
- Only features present in the training papers get a non-zero weight (zero start, L2, and a
  gradient that touches nothing else), so the model is stored sparsely: ``support`` (sorted
  hashed feature indices) and their weights, plus the dense vector weights and a bias.
- Deterministic: no randomness inside; the caller samples the negatives with a seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from paperwire.recommend.features import FeatureMatrix, LEXICAL_WEIGHT, SparseRows

L2 = 1e-3
ITERATIONS = 150
HARD_NEGATIVE_WEIGHT = 3.0


@dataclass
class LinearModel:
    w_dense: np.ndarray
    support: np.ndarray      # sorted sparse feature indices
    w_sparse: np.ndarray     # weights of ``support``
    bias: float
    n_positive: int
    n_negative: int

    def score(self, X: FeatureMatrix) -> np.ndarray:
        """Decision values (higher = more like the positives), one per row of ``X``."""
        out = X.dense @ self.w_dense.astype(np.float32) + self.bias
        return out.astype(np.float64) + _sparse_scores(X.sparse, self.support, self.w_sparse)


def _sparse_scores(rows: SparseRows, support: np.ndarray, weights: np.ndarray) -> np.ndarray:
    if not len(support) or not len(rows.indices):
        return np.zeros(rows.n)
    pos = np.searchsorted(support, rows.indices)
    pos = np.minimum(pos, len(support) - 1)
    hit = support[pos] == rows.indices
    vals = np.where(hit, weights[pos], 0.0) * rows.data
    return np.bincount(rows.row_ids(), weights=vals, minlength=rows.n)


def train(X: FeatureMatrix, labels: np.ndarray, *, hard: np.ndarray | None = None,
          l2: float = L2, iterations: int = ITERATIONS) -> LinearModel:
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

    D = X.dense.astype(np.float64)
    support, local = np.unique(X.sparse.indices, return_inverse=True)
    rid = X.sparse.row_ids()
    data = X.sparse.data
    m = len(support)

    def forward(wd, ws, b):
        z = D @ wd + b
        if m:
            z = z + np.bincount(rid, weights=data * ws[local], minlength=X.n_rows)
        return z

    # Curvature bound of the weighted logistic loss: 1/4 * max ||x||^2 (sum of weights is 1),
    # with ||x||^2 <= 1 (vector) + LEXICAL_WEIGHT^2 + 1 (bias).
    step = 1.0 / (0.25 * (2.0 + LEXICAL_WEIGHT ** 2) + l2)
    wd = np.zeros(D.shape[1])
    ws = np.zeros(m)
    b = 0.0
    vd, vs, vb = wd.copy(), ws.copy(), b
    t = 1.0
    for _ in range(iterations):
        z = forward(vd, vs, vb)
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -35, 35)))
        g = s * (p - y)
        gd = D.T @ g + l2 * vd
        gs = (np.bincount(local, weights=data * g[rid], minlength=m) if m else vs) + l2 * vs
        gb = g.sum()
        nwd, nws, nb = vd - step * gd, vs - step * gs, vb - step * gb
        t_next = (1 + np.sqrt(1 + 4 * t * t)) / 2
        mom = (t - 1) / t_next
        vd, vs, vb = nwd + mom * (nwd - wd), nws + mom * (nws - ws), nb + mom * (nb - b)
        wd, ws, b, t = nwd, nws, nb, t_next
    return LinearModel(wd.astype(np.float32), support, ws, float(b), n_pos, n_neg)
