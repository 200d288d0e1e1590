from __future__ import annotations

import numpy as np
import pytest

from paperwire.recommend.reasons import NEAR_DUPLICATE_COSINE, near_duplicates, reason_text


@pytest.mark.parametrize(
    "kind,label,expected",
    [
        ("saved", "Mamba", "because you saved “Mamba”"),
        ("upvoted", "Mamba", "because you upvoted “Mamba”"),
        ("more_like_this", "Mamba", "because you asked for more like “Mamba”"),
        ("list", "reading group", "close to your list “reading group”"),
        ("topic", "diffusion", "matches your topic “diffusion”"),
        ("author", "Ada Lovelace", "by Ada Lovelace, whom you follow"),
        ("saved", "  Two\n lines ", "because you saved “Two lines”"),
        ("saved", "x" * 200, "because you saved “" + "x" * 87 + "…”"),
    ],
)
def test_reason_text(kind, label, expected):
    assert reason_text(kind, label) == expected


def test_unknown_reason_kind_is_an_error():
    with pytest.raises(ValueError):
        reason_text("bogus", "x")


def _unit(v):
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


@pytest.mark.parametrize(
    "cand,has,expected",
    [
        ([[1, 0, 0]], [True], [True]),  # the same paper
        ([[1, 0.2, 0]], [True], [True]),  # cosine 0.98
        ([[1, 0.6, 0]], [True], [False]),  # cosine 0.86: related, kept
        ([[0, 1, 0]], [True], [False]),
        ([[0, 0, 0]], [False], [False]),  # not embedded: never removed
    ],
)
def test_near_duplicates_at_the_documented_threshold(cand, has, expected):
    cand = np.array([_unit(c) if any(c) else np.zeros(3) for c in cand])
    rejected = np.array([_unit([1, 0, 0])])
    assert near_duplicates(cand, np.array(has), rejected).tolist() == expected
    assert NEAR_DUPLICATE_COSINE == 0.90


def test_nothing_rejected_removes_nothing():
    assert not near_duplicates(np.eye(3), np.ones(3, bool), np.zeros((0, 3))).any()
