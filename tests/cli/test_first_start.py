"""The first start of a real ``paperwire serve`` on a fresh data dir: nothing waits for the
embedding model, and the start can be interrupted anywhere.

The model preparation is held back by its test hook (``prepare.HOLD_ENV``: it waits while a
file exists), so these tests show what a newcomer sees during the minutes the export takes,
without spending them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from paperwire.search.prepare import HOLD_ENV
from tests.support.live_server import free_port, wait_until_up

pytestmark = pytest.mark.slow

FIRST_ON_FEED = "2103.04264"  # the first seed paper: on today's feed


def _children(pid: int) -> set[int]:
    try:
        return {int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except FileNotFoundError:
        return set()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s: {what}")


class Serve:
    """A real ``paperwire serve`` in its own process group (so Ctrl+C can be sent as a
    terminal would: to the whole group)."""

    def __init__(self, tmp_path: Path, db_url: str, *, hold: bool = True) -> None:
        self.data = tmp_path / "data"
        self.hold = tmp_path / "hold-model"
        if hold:
            self.hold.touch()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / "serve.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERWIRE_")}
        env.update(
            {
                "PAPERWIRE_DATA_DIR": str(self.data),
                "PAPERWIRE_DATABASE_URL": db_url,
                "PAPERWIRE_PORT": str(self.port),
                "PAPERWIRE_LOG_LEVEL": "INFO",
                HOLD_ENV: str(self.hold),
            }
        )
        self.env = env
        self.proc: subprocess.Popen | None = None

    def start(self) -> Serve:
        self.out = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "paperwire", "serve"],
            env=self.env,
            stdout=self.out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until_up(self.url, timeout=90, proc=self.proc)
        return self

    def preparer(self) -> int:
        return _wait(
            lambda: next(iter(_children(self.proc.pid)), None),
            30,
            "the model preparation process started",
        )

    def stop(self, sig=signal.SIGTERM, *, group: bool = False) -> float:
        """Send ``sig``; returns the seconds until the server process ended."""
        started = time.monotonic()
        if group:
            os.killpg(self.proc.pid, sig)
        else:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.out.close()
        return time.monotonic() - started

    def text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def serve(tmp_path, db_url):
    servers = []

    def make(**kwargs) -> Serve:
        s = Serve(tmp_path, db_url, **kwargs)
        servers.append(s)
        return s

    yield make
    for s in servers:
        if s.proc is not None and s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()


def _feed_shows_demo(url: str) -> bool:
    page = httpx.get(url + "/", timeout=10)
    return page.status_code == 200 and f"/papers/{FIRST_ON_FEED}" in page.text


def test_demo_feed_and_keyword_search_work_while_the_model_is_prepared(serve):
    server = serve().start()
    preparer = server.preparer()
    _wait(lambda: _feed_shows_demo(server.url), 30, "the demo feed on the front page")
    page = httpx.get(server.url + "/", timeout=10).text
    assert "Ahmadreza Azizi" in page  # real authors, not "8 authors"
    # No PAPERWIRE_BASE_URL: the feed's links follow the port serve listens on.
    atom = httpx.get(server.url + "/feeds/daily.atom", timeout=10).text
    assert f"http://127.0.0.1:{server.port}/papers/{FIRST_ON_FEED}" in atom

    started = time.monotonic()
    search = httpx.get(server.url + "/search", params={"q": "seq"}, timeout=30)
    assert time.monotonic() - started < 20
    assert search.status_code == 200
    assert "keyword-only for now" in search.text
    assert "T-Miner" in search.text
    api = httpx.get(
        server.url + "/api/papers/search",
        params={"q": "selective state spaces", "mode": "hybrid"},
        timeout=30,
    )
    assert api.status_code == 200
    assert "2312.00752" in [item["paper"]["id"] for item in api.json()]
    assert "keyword-only for now" in api.headers["x-search-notices"]

    # The model is still held: no export exists, and its one preparation process waits.
    assert _alive(preparer)
    assert not list((server.data / "models").glob("*/manifest.json"))

    # SIGTERM stops the server, and its preparation process, within a few seconds.
    assert server.stop(signal.SIGTERM) < 10
    _wait(lambda: not _alive(preparer), 10, "the preparation process ended")
    log = server.text()
    assert "Loading weights" not in log and "Statistics collection" not in log
    assert "WARNING paperwire.search.lexical" not in log


def test_ctrl_c_and_kill_9_during_the_first_start_are_finished_by_the_next(serve, tmp_path):
    first = serve().start()
    preparer = first.preparer()
    # Ctrl+C as a terminal sends it: to the whole process group.
    assert first.stop(signal.SIGINT, group=True) < 10
    _wait(lambda: not _alive(preparer), 10, "the preparation process ended on Ctrl+C")

    second = serve().start()
    preparer = second.preparer()
    _wait(lambda: _feed_shows_demo(second.url), 30, "the demo feed")
    # kill -9 of the server: its preparation process does not outlive it.
    second.stop(signal.SIGKILL)
    _wait(lambda: not _alive(preparer), 10, "the preparation process ended after kill -9")

    # A temporary export folder of a killed export (its process is gone) is removed.
    models = second.data / "models"
    models.mkdir(exist_ok=True)
    stale = models / ".53aa51172d142c89-mean-openvino-int8-v1.tmp-999999999"
    stale.mkdir()
    (stale / "fp32.onnx").write_bytes(b"x" * 1000)
    third = serve().start()
    _wait(lambda: not stale.exists(), 20, "the stale export folder removed")
    _wait(lambda: _feed_shows_demo(third.url), 30, "the demo feed")
    data = httpx.get(third.url + "/api/daily_papers", params={"limit": 100}, timeout=10)
    third.stop()
    from sqlalchemy import create_engine, text

    engine = create_engine(second.env["PAPERWIRE_DATABASE_URL"])
    with engine.connect() as conn:
        papers = conn.execute(text("SELECT count(*) FROM papers")).scalar()
        entries = conn.execute(
            text("SELECT count(*), count(DISTINCT paper_id) FROM feed_entries")
        ).one()
    engine.dispose()
    assert data.status_code == 200
    assert papers == 255 and tuple(entries) == (55, 55)


def test_sigterm_during_the_export_removes_its_temporary_folder(serve):
    server = serve().start()
    preparer = server.preparer()
    server.hold.unlink()  # let the real export begin
    models = server.data / "models"
    _wait(lambda: list(models.glob(".*.tmp-*")), 60, "the export's temporary folder")
    assert server.stop(signal.SIGTERM) < 10
    _wait(lambda: not _alive(preparer), 10, "the preparation process ended")
    assert not list(models.glob(".*.tmp-*"))
    assert not list(models.glob("*/manifest.json"))


def test_kill_9_of_serve_and_its_export_is_cleaned_up_by_the_next_start(serve):
    """kill -9 of the whole process group during the real export (nothing can clean up): the
    next start removes the export's temporary folder and serves the demo feed, each paper
    and feed entry once."""
    first = serve().start()
    preparer = first.preparer()
    first.hold.unlink()  # let the real export begin
    models = first.data / "models"
    left = _wait(lambda: list(models.glob(".*.tmp-*")), 60, "the export's temporary folder")
    first.stop(signal.SIGKILL, group=True)
    _wait(lambda: not _alive(preparer), 10, "the preparation process killed")
    assert all(p.exists() for p in left)  # kill -9: nobody removed it

    second = serve().start()
    second.preparer()  # held again: the next export does not start and hide the check
    _wait(lambda: not any(p.exists() for p in left), 20, "the killed export's folder removed")
    _wait(lambda: _feed_shows_demo(second.url), 30, "the demo feed")
    second.stop()
    from sqlalchemy import create_engine, text

    engine = create_engine(second.env["PAPERWIRE_DATABASE_URL"])
    with engine.connect() as conn:
        papers = conn.execute(text("SELECT count(*) FROM papers")).scalar()
        entries = conn.execute(
            text("SELECT count(*), count(DISTINCT paper_id) FROM feed_entries")
        ).one()
    engine.dispose()
    assert papers == 255 and tuple(entries) == (55, 55)


def test_bench_first_start_runs_and_reports_both_times(tmp_path):
    """bench/first_start.py at one run with the model held back; no timing asserted."""
    import json

    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "first_start.json"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [
            sys.executable,
            str(root / "bench" / "first_start.py"),
            "--runs",
            "1",
            "--hold-model",
            "--json",
            str(out),
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:] + done.stdout[-2000:]
    assert "demo feed" in done.stdout and "first search" in done.stdout
    result = json.loads(out.read_text())
    (run,) = result["runs"]
    assert set(result["median"]) == {"listen_s", "feed_s", "search_s", "stop_s"}
    assert run["search_keyword_only"] is True
