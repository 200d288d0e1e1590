"""`paperwire search | similar | index | eval` through the real command line entry point."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperwire.cli import main
from paperwire.store.papers import upsert_papers
from tests.factories import make_record

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "scifact_small"
REPO = Path(__file__).resolve().parents[2]


def _env(settings) -> dict[str, str]:
    return {
        "PAPERWIRE_DATA_DIR": str(settings.data_dir),
        "PAPERWIRE_DATABASE_URL": settings.database_url,
        "PAPERWIRE_LOAD_DEMO_DATA": "false",
        "PAPERWIRE_LOG_LEVEL": "WARNING",
    }


@pytest.fixture
def populated(settings, db):
    with db.session() as session:
        upsert_papers(
            session,
            [
                make_record(
                    id="2401.00001",
                    title="Seq2seq models for translation",
                    abstract="Encoder decoder.",
                ),
                make_record(id="2401.00002", title="Galaxy clusters", abstract="Dark matter."),
            ],
        )
    return settings


def test_search_prints_ranked_results(populated):
    result = CliRunner().invoke(main, ["search", "seq", "--mode", "lexical"], env=_env(populated))
    assert result.exit_code == 0, result.output
    assert "Seq2seq models for translation" in result.stdout
    assert "2401.00001" in result.stdout and "2401.00002" not in result.stdout


def test_search_json_is_one_object(populated):
    result = CliRunner().invoke(
        main, ["search", "galaxy", "cluster", "--mode", "lexical", "--json"], env=_env(populated)
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["total"] == 1
    assert data["hits"][0]["id"] == "2401.00002"
    assert data["hits"][0]["highlights"] == ["galaxy", "clusters"]
    assert data["hits"][0]["snippet"] == "Dark matter."


def test_search_reports_notices_and_bad_options(populated):
    result = CliRunner().invoke(
        main, ["search", "foo:galaxy", "--mode", "lexical"], env=_env(populated)
    )
    assert result.exit_code == 0
    assert "Unknown field" in result.stderr
    bad = CliRunner().invoke(main, ["search", "x", "--limit", "0"], env=_env(populated))
    assert bad.exit_code != 0


def test_similar_of_unknown_paper_fails_clearly(populated):
    result = CliRunner().invoke(main, ["similar", "0000.00000"], env=_env(populated))
    assert result.exit_code != 0
    assert "error:" in result.stderr and "0000.00000" in result.stderr


def test_index_rebuild_lexical_only(populated):
    result = CliRunner().invoke(main, ["index", "--rebuild", "--lexical-only"], env=_env(populated))
    assert result.exit_code == 0, result.output
    assert "lexical: 2 papers" in result.stdout


def _shuffled_baseline(qrels_path: Path, corpus_path: Path, queries_path: Path) -> float:
    """nDCG@10 of random rankings of the same corpus for the same queries."""
    from paperwire.search.evaluate import read_qrels, read_queries, score

    ids = [f"beir:{json.loads(line)['_id']}" for line in corpus_path.open()]
    qrels = read_qrels(qrels_path)
    rng = random.Random(0)
    run = {}
    for qid in read_queries(queries_path):
        if qid in qrels:
            rng.shuffle(ids)
            run[qid] = {pid: float(100 - i) for i, pid in enumerate(ids[:100])}
    return score(qrels, run)["ndcg@10"]


def _eval(tmp_path, mode: str):
    args = [
        "eval",
        "--corpus",
        str(FIXTURES / "corpus.jsonl"),
        "--queries",
        str(FIXTURES / "queries.jsonl"),
        "--qrels",
        str(FIXTURES / "qrels.tsv"),
        "--mode",
        mode,
        "--json",
    ]
    # Evaluation builds its own temporary database; no DB fixture (and no PG run) needed.
    env = {
        "PAPERWIRE_DATA_DIR": str(tmp_path / "user-data"),
        "PAPERWIRE_DATABASE_URL": "",
        "PAPERWIRE_LOG_LEVEL": "WARNING",
    }
    return CliRunner().invoke(main, args, env=env)


def test_eval_lexical_json_beats_a_shuffled_ranking(tmp_path):
    result = _eval(tmp_path, "lexical")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)  # exactly one JSON object on stdout
    assert set(data) == {"lexical"}
    assert set(data["lexical"]) == {"ndcg@10", "recall@100"}
    assert all(0.0 <= v <= 1.0 for v in data["lexical"].values())
    baseline = _shuffled_baseline(
        FIXTURES / "qrels.tsv", FIXTURES / "corpus.jsonl", FIXTURES / "queries.jsonl"
    )
    assert data["lexical"]["ndcg@10"] > baseline + 0.2
    # The user's data directory (and so the default database) was not touched.
    assert not (tmp_path / "user-data").exists()


def _eval_process(tmp_path, mode: str, prelude: str = "") -> subprocess.CompletedProcess:
    """``paperwire eval --json`` in a fresh interpreter: stdout as a pipe would see it (the
    model export's C++ and rich output included, which CliRunner cannot capture)."""
    args = [
        "eval",
        "--corpus",
        str(FIXTURES / "corpus.jsonl"),
        "--queries",
        str(FIXTURES / "queries.jsonl"),
        "--qrels",
        str(FIXTURES / "qrels.tsv"),
        "--mode",
        mode,
        "--json",
    ]
    env = {
        **os.environ,
        "PAPERWIRE_DATA_DIR": str(tmp_path / "user-data"),
        "PAPERWIRE_DATABASE_URL": "",
        "PAPERWIRE_LOG_LEVEL": "INFO",
        "PYTHONPATH": str(REPO / "src"),
    }
    code = prelude + f"from paperwire.cli import main; main({args!r})"
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=1500
    )


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_eval_all_modes_prints_only_json_on_stdout_on_a_first_run(tmp_path):
    # Every eval builds its indexes in a fresh directory, so this run exports and quantizes
    # the model (NNCF's progress bars once came out on stdout, before the JSON).
    done = _eval_process(tmp_path, "all")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)  # the whole of stdout is one JSON document
    assert done.stdout == json.dumps(data, ensure_ascii=False) + "\n"
    assert set(data) == {"lexical", "semantic", "hybrid"}
    baseline = _shuffled_baseline(
        FIXTURES / "qrels.tsv", FIXTURES / "corpus.jsonl", FIXTURES / "queries.jsonl"
    )
    for mode in data:
        assert data[mode]["ndcg@10"] > baseline + 0.2


def test_eval_without_the_eval_extra_names_it(tmp_path):
    done = _eval_process(tmp_path, "lexical", prelude="import sys; sys.modules['ranx'] = None\n")
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert "pip install 'paperwire[eval]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_eval_names_a_missing_file(tmp_path):
    args = [
        "eval",
        "--corpus",
        "/nonexistent/corpus.jsonl",
        "--queries",
        str(FIXTURES / "queries.jsonl"),
        "--qrels",
        str(FIXTURES / "qrels.tsv"),
    ]
    result = CliRunner().invoke(main, args, env={"PAPERWIRE_DATA_DIR": str(tmp_path)})
    assert result.exit_code != 0
    assert "/nonexistent/corpus.jsonl" in result.stderr
