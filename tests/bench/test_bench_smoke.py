"""Every benchmark script runs, at a tiny size (issue 15: a change that breaks a benchmark
must fail CI, not the next person who re-measures).

Each script runs as its user would run it (``python bench/X.py ...``, a subprocess) against a
few hundred papers; nothing about timings is asserted, only that it finishes and reports
the figures it exists for. The model export is shared with the session's encoder fixture
(``DATA_DIR/models`` is linked), so no test exports the model again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.search.embed_fixtures import encoder, model_data_dir  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
REAL_RECORDS = FIXTURES / "arxiv" / "kaggle" / "arxiv-metadata-oai-snapshot.sample.jsonl"

pytestmark = pytest.mark.slow


def run_bench(script: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")]
        ),
        "MPLBACKEND": "Agg",
    }
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, (
        f"bench/{script} failed ({proc.returncode}):\n{proc.stderr[-3000:]}\n{proc.stdout[-2000:]}"
    )
    return proc


def with_models(data_dir: Path, models_home: Path) -> Path:
    """``data_dir`` sharing the session's model export (no second export)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    link = data_dir / "models"
    if not link.exists():
        link.symlink_to(models_home / "models")
    return data_dir


@pytest.fixture(scope="module")
def tiny_shared(tmp_path_factory, model_data_dir) -> Path:  # noqa: F811
    """bench/shared_data.py at 240 papers, 60 on the feed of the last 3 days."""
    base = tmp_path_factory.mktemp("pwbench")
    with_models(base / "data", model_data_dir)
    run_bench("shared_data.py", "--dir", str(base), "--n", "240", "--feed", "60", "--days", "3")
    assert (base / "READY").exists()
    return base / "papers_1m.db"


def test_search_latency_runs_with_a_synthetic_semantic_side(tiny_shared, tmp_path, model_data_dir):  # noqa: F811
    out = tmp_path / "latency.json"
    run_bench(
        "search_latency.py",
        "--db",
        str(tiny_shared),
        "--work",
        str(with_models(tmp_path / "work", model_data_dir)),
        "--synthetic",
        "--per-kind",
        "2",
        "--out",
        "",
        "--json-out",
        str(out),
    )
    result = json.loads(out.read_text())
    assert result["papers"] == 240
    for name in (
        "lexical relevance",
        "lexical newest",
        "hybrid relevance",
        "hybrid newest",
        "fts5 relevance",
        "fts5 newest",
    ):
        assert result["latency_ms"][name]["all"]["n"] > 0, name
        assert 0.0 <= result["totals"][name]["exact_share"] <= 1.0, name


def test_search_latency_runs_on_real_arxiv_records_with_title_queries(tmp_path, model_data_dir):  # noqa: F811
    out = tmp_path / "real.json"
    run_bench(
        "search_latency.py",
        "--real",
        str(REAL_RECORDS),
        "--work",
        str(with_models(tmp_path / "work", model_data_dir)),
        "--per-kind",
        "2",
        "--out",
        "",
        "--json-out",
        str(out),
    )
    result = json.loads(out.read_text())
    assert result["papers"] == 200
    assert result["latency_ms"]["lexical relevance"]["title"]["n"] > 0
    assert "fts5 newest" in result["totals"]


def test_digest_bench_runs_when_feed_papers_have_no_authors(tiny_shared, tmp_path, model_data_dir):  # noqa: F811
    """bench/shared_data.py's feed papers have no authors: the digest benchmark once died
    there with IndexError. (Its topics run through the search service: index and model.)"""
    work = tmp_path / "work"
    with_models(work / "data", model_data_dir)
    proc = run_bench(
        "digest.py",
        "--db",
        str(tiny_shared),
        "--work",
        str(work),
        "--subscribers",
        "20",
        "--topic-pool",
        "12",
        "--date",
        dt.date.today().isoformat(),
        "--plot",
        "",
    )
    result = json.loads(proc.stdout[proc.stdout.index("{") :])
    assert result["subscribers"] == 20
    assert result["sent"] + result["skipped"] == 20
    assert result["received_by_sink"] == result["sent"]


def test_web_bench_prepares_a_semantic_index_so_hybrid_is_hybrid_with_sentences(
    tiny_shared, tmp_path, model_data_dir
):  # noqa: F811
    from paperwire.config import load_settings
    from paperwire.search.service import SearchService
    from paperwire.store.db import Database

    work = tmp_path / "web"
    data = with_models(work / "data", model_data_dir)
    run_bench("web.py", "--db", str(tiny_shared), "--workdir", str(work), "--prepare-only")
    # bench/sentences_1m.py on the same copy: every embedded paper gets sentence vectors, so
    # hybrid search below takes the sentence re-scoring path too.
    proc = run_bench("sentences_1m.py", "--db", str(data / "paperwire.db"))
    assert "240 papers with sentence vectors" in proc.stdout
    settings = load_settings(
        env={},
        data_dir=data,
        database_url=f"sqlite:///{data / 'paperwire.db'}",
        load_demo_data=False,
    )
    db = Database(settings.database_url)
    svc = SearchService(settings, db, background=False)
    try:
        res = svc.search("network learning", mode="hybrid", limit=50)
        assert res.mode == "hybrid"
        # Every hit got a semantic score (its synthetic vector is in the index) ...
        assert res.hits and all(h.similarity is not None for h in res.hits)
        # ... and without a floor the nearest papers enter by meaning (synthetic vectors
        # are not close to a real query's embedding, so the shipped floor keeps them out).
        loose = svc.search("network learning", mode="hybrid", limit=50, min_similarity=0.0)
        assert any("semantic" in h.matched_by for h in loose.hits)
    finally:
        svc.close()
        db.dispose()


def test_synth_writes_the_same_bytes_for_the_same_seed(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    run_bench("synth.py", "25", str(a))
    run_bench("synth.py", "25", str(b))
    assert a.read_bytes() == b.read_bytes()
    assert len(a.read_text().splitlines()) == 25


def test_fuzz_runs_schemathesis_against_a_real_server_with_and_without_a_token(
    tmp_path, model_data_dir
):  # noqa: F811
    out = tmp_path / "fuzz.json"
    run_bench(
        "fuzz.py",
        "--requests",
        "64",
        "--time-limit",
        "240",
        "--workdir",
        str(tmp_path / "work"),
        "--models-from",
        str(model_data_dir),
        "--out",
        str(out),
        timeout=600,
    )
    result = json.loads(out.read_text())
    assert result["requests"] >= 64
    assert result["by_token"]["anonymous"] == result["by_token"]["token"]
    assert result["server_errors"] == 0 and result["violations"] == {}


SCIFACT_SMALL = FIXTURES / "scifact_small"


def tiny_beir(out: Path, n_queries: int = 10, n_other: int = 30) -> Path:
    """A BEIR collection cut from the SciFact fixture: ``n_queries`` judged claims, their
    relevant abstracts and ``n_other`` others (embedding is the slow part of the run)."""
    from paperwire.search.evaluate import read_qrels

    qrels = read_qrels(SCIFACT_SMALL / "qrels.tsv")
    queries = [
        json.loads(ln)
        for ln in (SCIFACT_SMALL / "queries.jsonl").read_text().splitlines()
        if ln.strip()
    ]
    queries = [q for q in queries if str(q["_id"]) in qrels][:n_queries]
    wanted = {d.removeprefix("beir:") for q in queries for d in qrels[str(q["_id"])]}
    docs = [
        json.loads(ln)
        for ln in (SCIFACT_SMALL / "corpus.jsonl").read_text().splitlines()
        if ln.strip()
    ]
    keep = [d for d in docs if str(d["_id"]) in wanted]
    keep += [d for d in docs if str(d["_id"]) not in wanted][:n_other]
    out.mkdir(parents=True, exist_ok=True)
    (out / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in keep))
    (out / "queries_train.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    lines = ["query-id\tcorpus-id\tscore"] + [
        f"{q['_id']}\t{d.removeprefix('beir:')}\t1" for q in queries for d in qrels[str(q["_id"])]
    ]
    (out / "qrels_train.tsv").write_text("\n".join(lines) + "\n")
    return out


def test_relevance_and_floor_study_run_on_a_small_beir_collection(tmp_path, model_data_dir):  # noqa: F811
    """bench/relevance.py (tuning, CV, final figures through SearchService.search) and its
    floor study (generated nonsense, relevant-in-set share), then bench/floor.py alone, on a
    few dozen SciFact abstracts."""
    data = tiny_beir(tmp_path / "beir")
    work = with_models(tmp_path / "work", model_data_dir)
    out = tmp_path / "relevance.json"
    run_bench(
        "relevance.py",
        "--data",
        str(data),
        "--work",
        str(work),
        "--out",
        "",
        "--json-out",
        str(out),
        "--floors",
        "0.35,0.9",
        "--nonsense",
        "4",
        timeout=1200,
    )
    result = json.loads(out.read_text())
    assert set(result["results"]) >= {"lexical", "semantic", "hybrid"}
    assert len(result["cv"]["held_out_ndcg@10"]) == 5
    floors = result["floor"]["floors"]
    assert {"0.35", "0.9"} <= set(floors)
    for row in floors.values():
        assert 0.0 <= row["nonsense_zero_share"]["all"] <= 1.0
        assert 0.0 <= row["scifact_relevant_in_set_share"] <= 1.0
    # A higher floor lets fewer papers in by meaning: never more nonsense results.
    assert (
        floors["0.9"]["nonsense_zero_share"]["all"] >= floors["0.35"]["nonsense_zero_share"]["all"]
    )
    run_bench(
        "floor.py",
        "--data",
        str(data),
        "--work",
        str(work),
        "--floors",
        "0.35",
        "--nonsense",
        "3",
        "--no-ndcg",
        "--json-out",
        str(tmp_path / "floor.json"),
    )
    assert json.loads((tmp_path / "floor.json").read_text())["floors"]["0.35"]
