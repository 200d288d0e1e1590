"""Fusion of ranked lists: pure functions, table-tested."""

from __future__ import annotations

import pytest

from paperwire.search.fusion import FusionParams, fuse, rrf, weighted

LEX = [("a", 10.0), ("b", 5.0), ("c", 1.0)]
SEM = [("c", 0.9), ("d", 0.8), ("a", 0.1)]


@pytest.mark.parametrize(
    "params",
    [
        FusionParams("weighted", 0.5),
        FusionParams("rrf"),
        FusionParams("weighted", 0.3, lexical_floor=0.4),
    ],
)
def test_every_paper_appears_once(params):
    out = fuse(LEX, SEM, params)
    assert sorted(p for p, _ in out) == ["a", "b", "c", "d"]
    assert [s for _, s in out] == sorted((s for _, s in out), reverse=True)


@pytest.mark.parametrize("alpha, first", [(1.0, "a"), (0.0, "c"), (0.4, "c"), (0.6, "a")])
def test_alpha_moves_weight_between_sides(alpha, first):
    assert weighted(LEX, SEM, alpha)[0][0] == first


def test_lexical_floor_lifts_lexical_matches_over_semantic_only():
    plain = [p for p, _ in weighted(LEX, SEM, 0.5)]
    floored = [p for p, _ in weighted(LEX, SEM, 0.5, lexical_floor=0.9)]
    assert plain.index("d") < plain.index("b")
    assert floored.index("b") < floored.index("d")


def test_rrf_rewards_agreement():
    out = dict(rrf(LEX, SEM, k=60))
    assert out["a"] == pytest.approx(1 / 61 + 1 / 63)
    assert out["d"] == pytest.approx(1 / 62)


@pytest.mark.parametrize("lex, sem", [([], []), ([], SEM), (LEX, [])])
def test_empty_sides(lex, sem):
    assert len(fuse(lex, sem)) == len(lex) + len(sem)


def test_ties_are_broken_by_id():
    assert [p for p, _ in weighted([("b", 1.0), ("a", 1.0)], [], 1.0)] == ["a", "b"]


@pytest.mark.parametrize("kwargs", [dict(method="nope"), dict(alpha=1.5), dict(lexical_floor=-1)])
def test_bad_params_are_refused(kwargs):
    with pytest.raises(ValueError):
        FusionParams(**kwargs)
