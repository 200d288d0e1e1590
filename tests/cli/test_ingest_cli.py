"""`paperwire import | export | harvest | fetch | stats` through click, on both databases."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperwire.cli import main
from tests.support.arxiv_replay import arxiv_replay_server

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
KAGGLE = FIXTURES / "arxiv" / "kaggle" / "arxiv-metadata-oai-snapshot.sample.jsonl"


@pytest.fixture
def cli(db_url, tmp_path):
    env = {
        "PAPERWIRE_DATABASE_URL": db_url,
        "PAPERWIRE_DATA_DIR": str(tmp_path / "data"),
        "PAPERWIRE_LOAD_DEMO_DATA": "false",
        "PAPERWIRE_ARXIV_DELAY_SECONDS": "0",
        "PAPERWIRE_ARXIV_RETRY_AFTER_MAX_SECONDS": "0.05",
        "PAPERWIRE_LOG_LEVEL": "WARNING",
    }
    runner = CliRunner()

    def invoke(*args, extra_env=None):
        return runner.invoke(
            main, list(args), env={**env, **(extra_env or {})}, catch_exceptions=False
        )

    return invoke


@pytest.mark.parametrize("command", ["import", "export", "harvest", "fetch", "stats"])
def test_every_command_explains_itself(cli, command):
    result = cli(command, "--help")
    assert result.exit_code == 0
    assert "Usage: main " + command in result.output or f"{command} [OPTIONS]" in result.output
    assert len(result.output.splitlines()) > 4


def test_import_prints_summary_and_rejections(cli, tmp_path):
    bad = tmp_path / "mixed.jsonl"
    bad.write_text(KAGGLE.read_text().splitlines()[0] + "\n{oops\n")
    result = cli("import", "--no-progress", str(KAGGLE), str(bad))
    assert result.exit_code == 0, result.output
    assert "imported 2 file(s): new 200, updated 0, unchanged 1, rejected 1" in result.stdout
    assert f"{bad}:2: invalid JSON" in result.stderr


def test_import_missing_file_exits_non_zero_with_one_line(cli, tmp_path):
    result = cli("import", str(tmp_path / "nope.jsonl"))
    assert result.exit_code != 0
    assert result.stderr.strip() == f"error: {tmp_path / 'nope.jsonl'}: no such file"


def test_import_with_wrong_explicit_format_rejects_records(cli):
    result = cli("import", "--no-progress", "--format", "beir", str(KAGGLE))
    assert result.exit_code == 0
    assert "new 0, updated 0, unchanged 0, rejected 200" in result.stdout


def test_export_to_stdout_and_file_then_reimport(cli, tmp_path):
    cli("import", "--no-progress", str(KAGGLE))
    result = cli("export")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 200 and json.loads(lines[0])["id"] == "0704.0001"
    out = tmp_path / "all.jsonl.gz"
    assert cli("export", str(out)).exit_code == 0
    result = cli("import", "--no-progress", str(out))
    assert "new 0, updated 0, unchanged 200, rejected 0" in result.stdout


def test_stats_counts(cli):
    cli("import", "--no-progress", str(KAGGLE))
    result = cli("stats", "--json")
    assert result.exit_code == 0
    stats = json.loads(result.stdout)
    assert stats["papers"] == 200 and stats["feed_entries"] == 0 and stats["votes"] == 0
    assert stats["last_harvest_datestamp"] is None
    text = cli("stats").stdout
    assert "papers" in text and "200" in text


def test_harvest_and_fetch_against_replayed_arxiv(cli):
    with arxiv_replay_server() as replay:
        urls = {
            "PAPERWIRE_ARXIV_OAI_URL": replay.oai_url,
            "PAPERWIRE_ARXIV_API_URL": replay.api_url,
        }
        result = cli(
            "harvest",
            "--from",
            "2015-01-01",
            "--until",
            "2015-01-03",
            "--no-progress",
            extra_env=urls,
        )
        assert result.exit_code == 0, result.output
        assert "harvested 1 page(s): new 2" in result.stdout
        assert "last datestamp 2015-01-03" in result.stdout
        result = cli("fetch", "https://arxiv.org/abs/astro-ph/0601001", extra_env=urls)
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines() == ["astro-ph/0601001\tnew"]
        # Several ids go in one request (the recorded one); the unknown one is an error
        # after the known one was stored.
        result = cli("fetch", "0808.05394", "1707.08567", extra_env=urls)
        assert result.exit_code != 0
        assert result.stderr.strip() == (
            "error: arXiv has no paper 0808.05394 (stored: 1707.08567)"
        )
        result = cli("fetch", "abc", extra_env=urls)
        assert result.exit_code != 0
        assert result.stderr.startswith("error: not an arXiv id: 'abc'")
        assert len(result.stderr.strip().splitlines()) == 1
        result = cli("fetch", "0808.05394", extra_env=urls)
        assert result.exit_code != 0
        assert result.stderr.strip() == "error: arXiv has no paper 0808.05394"
        result = cli("harvest", "--from", "yesterday", extra_env=urls)
        assert result.exit_code != 0 and "is not a date" in result.stderr
        stats = json.loads(cli("stats", "--json").stdout)
        assert stats["last_harvest_datestamp"] == "2015-01-03"
        assert stats["papers"] == 4
