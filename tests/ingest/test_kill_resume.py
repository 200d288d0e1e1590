"""`kill -9` in the middle of `paperwire import`, then a rerun: the database must be exactly
the one an uninterrupted import gives (on SQLite and PostgreSQL)."""

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
from sqlalchemy import select

from paperwire.store.db import Database
from paperwire.store.migrate import upgrade
from paperwire.store.models import Checkpoint
from tests.ingest.helpers import dump_tables, write_snapshot

N_RECORDS = 6000
# Many small transactions, so the kill lands between two of them (above search's
# synchronous-embedding limit of 64 papers, which would only slow the test down).
BATCH = 100


def import_cmd(db_url: str, data_dir, path, workers: str = "0") -> tuple[list[str], dict]:
    env = dict(
        os.environ,
        PAPERWIRE_DATABASE_URL=db_url,
        PAPERWIRE_DATA_DIR=str(data_dir),
        PAPERWIRE_LOAD_DEMO_DATA="false",
        PAPERWIRE_IMPORT_BATCH_SIZE=str(BATCH),
        PAPERWIRE_LOG_LEVEL="WARNING",
        PAPERWIRE_IMPORT_WORKERS=workers,
    )
    return [sys.executable, "-m", "paperwire", "import", "--no-progress", str(path)], env


def committed_line(db) -> int:
    with db.session() as session:
        value = session.scalar(
            select(Checkpoint.value).where(Checkpoint.name.startswith("import:"))
        )
    return (value or {}).get("line", 0)


@pytest.mark.slow
# "2": the parallel parsing path big files take; the rerun parses in-process.
@pytest.mark.parametrize("workers", ["0", "2"])
def test_kill_9_mid_import_then_rerun_equals_uninterrupted_import(db, db_url, tmp_path, workers):
    snapshot = tmp_path / "snapshot.jsonl"
    write_snapshot(snapshot, N_RECORDS)

    cmd, env = import_cmd(db_url, tmp_path / "data", snapshot, workers)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    killed_at = 0
    while time.monotonic() < deadline and proc.poll() is None:
        killed_at = committed_line(db)
        if killed_at >= 5 * BATCH:
            children = psutil.Process(proc.pid).children()
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait(timeout=30)
    if proc.returncode != -signal.SIGKILL:
        pytest.fail(
            f"the import ended before it could be killed (exit {proc.returncode}): "
            f"{proc.stderr.read().decode()[-500:]}"
        )
    stopped_at = committed_line(db)
    assert BATCH <= stopped_at < N_RECORDS, "the kill must land mid-file"
    partial = dump_tables(db)
    assert BATCH <= len(partial["papers"]) < N_RECORDS

    if workers != "0":
        # The killed importer's parser processes notice their parent is gone and exit.
        assert children, "the importer had no parser processes"
        _, alive = psutil.wait_procs(children, timeout=30)
        assert alive == [], "parser processes outlived the importer"
    rerun = subprocess.run(
        cmd,
        env={**env, "PAPERWIRE_IMPORT_WORKERS": "0"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f"resumed {snapshot}:{stopped_at}" in rerun.stderr
    assert f"new {N_RECORDS}, updated 0, unchanged 0, rejected 0" in rerun.stdout

    fresh_url = f"sqlite:///{tmp_path / 'uninterrupted.db'}"
    upgrade(Database(fresh_url))
    cmd2, env2 = import_cmd(fresh_url, tmp_path / "data2", snapshot)
    clean = subprocess.run(cmd2, env=env2, capture_output=True, text=True, timeout=300)
    assert clean.returncode == 0, clean.stderr

    fresh = Database(fresh_url)
    resumed, uninterrupted = dump_tables(db), dump_tables(fresh)
    fresh.dispose()
    assert len(resumed["papers"]) == N_RECORDS
    assert resumed == uninterrupted
