"""NamedLock (search/storage/locks.py): real flocks and PostgreSQL advisory locks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from paperwire.search.storage import NamedLock

_HOLDER = textwrap.dedent("""
    import sys, time
    from paperwire.search.storage import NamedLock
    lock = NamedLock.local(sys.argv[1])
    assert lock.acquire(wait=False)
    print("held", flush=True)
    time.sleep(60)
""")


def test_local_lock_excludes_another_process_until_it_is_killed(tmp_path):
    path = tmp_path / "locks" / ".writer.lock"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        mine = NamedLock.local(path)
        assert mine.acquire(wait=False) is False and not mine.held
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert mine.acquire(wait=False) is True and mine.held  # the OS released it
        mine.release()
        assert not mine.held
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_local_lock_excludes_a_second_holder_in_the_same_process(tmp_path):
    first, second = NamedLock.local(tmp_path / "x.lock"), NamedLock.local(tmp_path / "x.lock")
    assert first.acquire(wait=False)
    assert first.acquire(wait=False)  # held already: not taken twice
    with second.hold(wait=False) as got:
        assert got is False
    first.release()
    with second.hold(wait=False) as got:
        assert got is True
        assert first.acquire(wait=False) is False


def test_shared_lock_excludes_other_holders_on_both_databases(settings, db):
    lock_dir = Path(settings.data_dir) / "locks"
    first = NamedLock.shared(db, "storage-test", lock_dir=lock_dir)
    second = NamedLock.shared(db, "storage-test", lock_dir=lock_dir)
    assert first.acquire(wait=True)
    try:
        with second.hold(wait=False) as got:
            assert got is False
    finally:
        first.release()
    with second.hold(wait=False) as got:
        assert got is True
