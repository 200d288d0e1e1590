"""bench/keysentence.py runs on a few dozen SciFact abstracts and reports its figures (issue 15:
a change that breaks a benchmark fails CI)."""

from __future__ import annotations

import json

import pytest

from tests.bench.test_bench_smoke import run_bench, tiny_beir, with_models
from tests.search.embed_fixtures import encoder, model_data_dir  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow


def test_keysentence_bench_runs_on_a_small_beir_collection(tmp_path, model_data_dir):  # noqa: F811
    data = tiny_beir(tmp_path / "beir", n_queries=40, n_other=0)
    work = with_models(tmp_path / "work", model_data_dir)
    out = tmp_path / "keysentence.json"
    run_bench(
        "keysentence.py",
        "--data",
        str(data),
        "--work",
        str(work),
        "--out",
        str(tmp_path),
        "--json-out",
        str(out),
        "--min-overlap",
        "0.3",
    )
    result = json.loads(out.read_text())
    assert result["abstracts"] > 0
    assert result["tuning_abstracts"] + result["test_abstracts"] == result["abstracts"]
    for name in (
        "first sentence",
        "last sentence",
        "random sentence (expected)",
        "shipped: centrality + cues + position",
        "shipped rule: cues + position, no vectors (fallback)",
    ):
        for part in result["results"][name].values():
            assert 0.0 <= part["hit_rate"] <= 1.0, name
    done, total = map(int, result["product_pick_agrees_with_bench"].split("/"))
    assert done == total  # the product's pick() is what the bench measures
    assert (tmp_path / "keysentence_scifact.png").stat().st_size > 0
