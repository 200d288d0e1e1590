"""bench/recommend.py runs end to end at a tiny size (the 280 real records of
tests/fixtures/arxiv/real/recommend-sample.jsonl): it must not rot. Nothing about quality or
timing is asserted, only that every figure it exists for is reported."""

from __future__ import annotations

import json

import pytest

from tests.bench.test_bench_smoke import FIXTURES, run_bench, with_models
from tests.search.embed_fixtures import encoder, model_data_dir  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow


def test_recommend_bench_reports_quality_baselines_and_cost(tmp_path, model_data_dir):  # noqa: F811
    out = tmp_path / "rec.json"
    work = with_models(tmp_path / "work", model_data_dir)
    args = [
        "--data",
        str(FIXTURES / "arxiv" / "real" / "recommend-sample.jsonl"),
        "--work",
        str(work),
        "--split",
        "2026-02-01",
        "--until",
        "2026-08-01",
        "--categories",
        "3",
        "--coauthors",
        "2",
        "--ks",
        "1,3",
        "--draws",
        "1",
        "--negatives",
        "40",
        "--min-history",
        "5",
        "--max-share",
        "0.5",
        "--cost-members",
        "20",
        "--json-out",
        str(out),
        "--plot",
        str(tmp_path / "p.png"),
    ]
    run_bench("recommend.py", *args)
    result = json.loads(out.read_text())
    assert result["members"]["category"] >= 1
    for k in ("1", "3"):
        row = result["quality"]["category"][k]
        assert set(row) == {
            "recommender",
            "recommender, words + vectors only",
            "cosine to mean",
            "most recent",
            "most upvoted",
        }
        assert all(0.0 <= v["ndcg@10"] <= 1.0 for v in row.values())
    assert result["cost"]["members_scored"] == 20
    assert result["cost"]["train_one_member_ms_median"] > 0
    assert (tmp_path / "p.png").stat().st_size > 0
    assert (work / "vectors.npz").exists()
    # A rerun embeds nothing (the vectors are cached).
    run_bench("recommend.py", *args)
    assert json.loads(out.read_text())["embed_seconds"] < 5
