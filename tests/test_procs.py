"""procs.pid_alive: whether a process still runs, for the recovery of work left by processes
that died (stale model export folders, the digest's dead claimers)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paperwire.procs import pid_alive


def test_this_process_and_a_running_child_are_alive():
    assert pid_alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert pid_alive(child.pid)
    finally:
        child.kill()
        child.wait()


def test_a_finished_process_is_not_alive():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not pid_alive(child.pid)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_zombie_is_not_alive():
    """A process that ended but was not reaped yet (a zombie) is dead. Where PID 1 does not
    reap orphans (a container without an init), a killed export's preparation process stays
    a zombie for good, and its temporary folder (~90 MB) was never removed."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.monotonic() < deadline, "the child did not end"
        time.sleep(0.05)
    try:
        assert not pid_alive(child.pid)
    finally:
        child.wait()
