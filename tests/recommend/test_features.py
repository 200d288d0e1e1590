from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from paperwire.recommend.features import (DIM_SPARSE, LEXICAL_WEIGHT, PaperText, SparseRows,
                                          build_features, lexical_rows, paper_tokens)


@pytest.mark.parametrize("paper,group,expected", [
    (PaperText("1", "Graph Neural Networks", "", ("cs.LG",), ("Ada Lovelace",)), "word",
     {"graph", "neural", "network"}),
    (PaperText("1", "Graph Neural Networks"), "pair", {"graph neural", "neural network"}),
    (PaperText("1", "x", "", ("cs.LG", "stat.ML")), "cat", {"cat:cs.lg", "cat:stat.ml"}),
    (PaperText("1", "x", "", (), ("Ada  Lovelace", " ")), "author", {"au:ada lovelace"}),
    (PaperText("1", "The of and", ""), "word", set()),
])
def test_paper_tokens_per_group(paper, group, expected):
    assert set(paper_tokens(paper)[group]) == expected


def test_lexical_rows_are_deterministic_and_bounded():
    papers = [PaperText("a", "Sparse attention for long documents", "We sparsify attention.",
                        ("cs.CL",), ("A B",)),
              PaperText("b", "Galaxy clusters", "Dark matter halos.", ("astro-ph.CO",))]
    one, two = lexical_rows(papers), lexical_rows(papers)
    assert np.array_equal(one.indices, two.indices) and np.allclose(one.data, two.data)
    norms = np.sqrt(np.bincount(one.row_ids(), weights=one.data ** 2))
    assert np.all(norms <= LEXICAL_WEIGHT + 1e-9)
    assert one.indices.max() < DIM_SPARSE


def test_papers_without_a_vector_get_a_zero_dense_part():
    papers = [PaperText("a", "one"), PaperText("b", "two")]
    X = build_features(papers, {"a": np.array([3.0, 4.0])})
    assert X.has_vector.tolist() == [True, False]
    assert np.allclose(X.dense[0], [0.6, 0.8]) and not X.dense[1].any()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.dictionaries(st.integers(0, 50), st.floats(-2, 2), max_size=6),
                min_size=1, max_size=6),
       st.lists(st.integers(0, 5), max_size=6))
def test_sparse_rows_take_and_dot_match_a_dense_reference(rows, picks):
    dense = np.zeros((len(rows), 51))
    indptr, idx, data = [0], [], []
    for i, r in enumerate(rows):
        for k in sorted(r):
            dense[i, k] = r[k]
            idx.append(k)
            data.append(r[k])
        indptr.append(len(idx))
    S = SparseRows(np.array(indptr), np.array(idx, dtype=np.int64), np.array(data), 51)
    w = np.arange(51, dtype=float) - 20
    assert np.allclose(S.dot(w), dense @ w)
    picks = [p for p in picks if p < len(rows)]
    assert np.allclose(S.take(picks).dot(w), dense[picks] @ w)
