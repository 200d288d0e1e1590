from __future__ import annotations

import numpy as np
import pytest

from paperwire.recommend.features import PaperText, build_features
from paperwire.recommend.model import train


def _features(n_pos=6, n_neg=30, seed=0):
    rng = np.random.default_rng(seed)
    topic = rng.normal(size=16)
    vecs, papers = {}, []
    for i in range(n_pos + n_neg):
        base = topic if i < n_pos else rng.normal(size=16)
        vecs[str(i)] = base + 0.3 * rng.normal(size=16)
        words = "protein folding structure" if i < n_pos else f"galaxy{i} spectra{i}"
        papers.append(PaperText(str(i), words))
    return build_features(papers, vecs), np.r_[np.ones(n_pos), np.zeros(n_neg)]


def test_positives_score_above_negatives_after_training():
    X, y = _features()
    model = train(X, y)
    s = model.score(X)
    assert s[y == 1].min() > s[y == 0].max()


def test_training_needs_both_classes():
    X, y = _features()
    with pytest.raises(ValueError, match="positive and one negative"):
        train(X, np.ones_like(y))
    with pytest.raises(ValueError):
        train(X, np.zeros_like(y))


def test_training_reaches_the_optimum_of_the_regularised_loss():
    X, y = _features(seed=3)
    s = np.where(y == 1, 0.5 / y.sum(), 0.5 / (1 - y).sum())

    def loss(m):
        z = m.score(X)
        return float(
            (s * np.logaddexp(0, -np.where(y == 1, 1, -1) * z)).sum()
            + 0.5e-3 * (m.weights @ m.weights)
        )

    assert loss(train(X, y)) <= loss(train(X, y, iterations=2000, tolerance=0)) + 2e-3


def test_a_hard_negative_scores_lower_than_as_a_plain_negative():
    X, y = _features()
    y[-1] = 0
    plain = train(X, y).score(X)[-1]
    hard = np.zeros(len(y), bool)
    hard[-1] = True
    assert train(X, y, hard=hard).score(X)[-1] < plain
