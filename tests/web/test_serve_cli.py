"""`paperwire serve` as a real process: migrates a fresh database, answers, logs its URL and
where mail goes."""

from __future__ import annotations

import sqlite3

import httpx
import pytest

from tests.support.live_server import free_port, serve_process


def _env(data, *, demo: bool, log_level: str) -> dict[str, str]:
    """A serve process on the embedded database in ``data``."""
    return {
        "PAPERWIRE_DATA_DIR": str(data),
        "PAPERWIRE_LOAD_DEMO_DATA": "true" if demo else "false",
        "PAPERWIRE_DATABASE_URL": "",
        "PAPERWIRE_LOG_LEVEL": log_level,
    }


@pytest.mark.slow
def test_serve_migrates_a_fresh_database_and_serves_pages(tmp_path):
    data = tmp_path / "data"
    port = free_port()
    log_path = tmp_path / "serve.log"
    env = _env(data, demo=False, log_level="INFO")
    with serve_process(env, port=port, log_path=str(log_path), extra_args=["--no-embedder"]) as (
        url,
        _,
    ):
        assert httpx.get(url + "/healthz").json() == {"status": "ok"}
        home = httpx.get(url + "/")
        assert home.status_code == 200 and "No papers here yet" in home.text
        css = httpx.get(url + "/static/app.css")
        assert css.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert httpx.get(url + "/api/daily_papers").json() == []
    tables = {
        r[0]
        for r in sqlite3.connect(data / "paperwire.db").execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        )
    }
    assert {"papers", "feed_entries", "users"} <= tables
    assert f"http://127.0.0.1:{port}/" in log_path.read_text()
    # No mail setting: the console says where mail goes and how to configure SMTP.
    assert (
        f"messages are delivered to the outbox {(data / 'outbox').resolve()}"
        in log_path.read_text()
    )
    assert "PAPERWIRE_SMTP_URL" in log_path.read_text()
    # ... once: the console line is not repeated by the log (which also writes to stderr).
    assert log_path.read_text().count("messages are delivered to the outbox") == 1


def test_serve_help_explains_production_settings():
    from click.testing import CliRunner

    from paperwire.cli import main

    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--workers" in result.output and "number of cores" in result.output


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_serve_with_two_workers_shares_rankings_in_a_file_of_the_run(tmp_path):
    """The workers of one run share the rankings they compute (search/shared_cache.py) in a
    file made for the run and removed when it ends."""
    data = tmp_path / "data"
    env = _env(data, demo=True, log_level="WARNING")
    with serve_process(env, workers=2, timeout=120, extra_args=["--no-embedder"]) as (url, proc):
        run_file = data / "cache" / f"rankings-{proc.pid}.sqlite"
        for _ in range(6):
            r = httpx.get(url + "/api/papers/search", params={"q": "seq", "mode": "lexical"})
            assert r.status_code == 200 and r.json()
        assert run_file.exists()
        [(count,)] = sqlite3.connect(run_file).execute("SELECT count(*) FROM rankings")
        assert count == 1  # the query's ranking, stored for the other worker
    assert not list((data / "cache").glob("rankings-*"))
