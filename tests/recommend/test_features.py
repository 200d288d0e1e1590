from __future__ import annotations

import numpy as np
import pytest

from paperwire.recommend.features import (
    LEXICAL_DIM,
    LEXICAL_WEIGHT,
    PaperText,
    Vocabulary,
    build_features,
    lexical_rows,
    paper_tokens,
)


@pytest.mark.parametrize(
    "paper,group,expected",
    [
        (
            PaperText("1", "Graph Neural Networks", "", ("cs.LG",), ("Ada Lovelace",)),
            "word",
            {"graph", "neural", "network"},
        ),
        (PaperText("1", "Graph Neural Networks"), "pair", {"graph neural", "neural network"}),
        (PaperText("1", "x", "", ("cs.LG", "stat.ML")), "cat", {"cat:cs.lg", "cat:stat.ml"}),
        (PaperText("1", "x", "", (), ("Ada  Lovelace", " ")), "author", {"au:ada lovelace"}),
        (PaperText("1", "The of and", ""), "word", set()),
    ],
)
def test_paper_tokens_per_group(paper, group, expected):
    assert set(paper_tokens(paper)[group]) == expected


def test_lexical_rows_are_deterministic_and_bounded():
    papers = [
        PaperText(
            "a",
            "Sparse attention for long documents",
            "We sparsify attention.",
            ("cs.CL",),
            ("A B",),
        ),
        PaperText("b", "Galaxy clusters", "Dark matter halos.", ("astro-ph.CO",)),
    ]
    one, two = lexical_rows(papers), lexical_rows(papers)
    assert np.array_equal(one, two)
    assert one.shape == (2, LEXICAL_DIM)
    assert np.allclose(np.linalg.norm(one, axis=1), LEXICAL_WEIGHT)


def test_papers_without_a_vector_get_a_zero_dense_part():
    papers = [PaperText("a", "one"), PaperText("b", "two")]
    X = build_features(papers, {"a": np.array([3.0, 4.0])})
    assert X.has_vector.tolist() == [True, False]
    assert np.allclose(X.dense[0], [0.6, 0.8]) and not X.dense[1].any()


def test_signed_hashing_keeps_inner_products_of_unrelated_papers_near_zero():
    papers = [
        PaperText(str(i), f"topic{i} alpha{i} beta{i}", f"gamma{i} delta{i} " * 20)
        for i in range(40)
    ]
    L = lexical_rows(papers)
    gram = L @ L.T
    assert np.allclose(np.diag(gram), LEXICAL_WEIGHT**2, atol=1e-5)
    off = gram[~np.eye(len(papers), dtype=bool)]
    assert np.abs(off).max() < 0.2


def test_a_vocabulary_fitted_elsewhere_gives_the_same_rows_for_the_same_papers():
    pool = [
        PaperText("a", "Sparse attention"),
        PaperText("b", "Galaxy clusters"),
        PaperText("c", "Attention for galaxies"),
    ]
    vocab = Vocabulary.fit([paper_tokens(p) for p in pool])
    assert np.allclose(lexical_rows(pool[2:], vocab), lexical_rows(pool)[2:])
