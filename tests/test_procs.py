"""procs.pid_alive: whether a process still runs, for the recovery of work left by processes
that died (stale model export folders, the digest's dead claimers); procs.watch_stalls: a
process whose interpreter stalls says where each thread was."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paperwire.procs import pid_alive, watch_stalls


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


STALLING = """
import ctypes, sys, time
from paperwire.procs import watch_stalls

watch_stalls(float(sys.argv[1]))
time.sleep(0.5)  # idle: threads run, nothing is reported
def native_call_holding_the_gil():
    # PyDLL calls keep the interpreter lock: libc's sleep stands in for a hung native library.
    ctypes.PyDLL(None).sleep(int(sys.argv[2]))
native_call_holding_the_gil()
print("done")
"""


def run_stalling(seconds: float, stall: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", STALLING, str(seconds), str(stall)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_stalled_interpreter_reports_every_threads_stack():
    proc = run_stalling(0.5, 2)
    assert proc.returncode == 0 and "done" in proc.stdout  # a report, not an exit
    assert "Timeout (0:00:00.500000)!" in proc.stderr, proc.stderr
    # Where the main thread was stuck, and the watching thread itself.
    assert "native_call_holding_the_gil" in proc.stderr
    assert "in watch" in proc.stderr


def test_an_interpreter_that_keeps_running_reports_nothing():
    proc = run_stalling(1.5, 0)
    assert proc.returncode == 0 and "done" in proc.stdout
    assert proc.stderr == ""


def test_no_watch_when_turned_off_or_without_a_file_descriptor():
    import io

    assert watch_stalls(0) is None
    assert watch_stalls(3.0, file=io.StringIO()) is None
