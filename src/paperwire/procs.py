"""Process helpers: whether a process lives (areas that recover work of processes that died),
and a report of a process whose interpreter stalls (web workers)."""

from __future__ import annotations

import faulthandler
import os
import sys
import threading
import time
from typing import Any


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (ours counts; one we may not
    signal exists too). A zombie (ended, not yet reaped by its parent) is not alive: where
    PID 1 does not reap orphans (a container without an init), a killed process stays a
    zombie for good, and the work it left would never be recovered."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state = stat.read().rsplit(b")", 1)[1].split()[0]
    except FileNotFoundError:
        # No /proc (not Linux): the signal check is all there is; else it ended just now.
        return not os.path.isdir("/proc/self")
    except (OSError, IndexError):
        return True
    return state not in (b"Z", b"X")


def watch_stalls(seconds: float, file: Any = None) -> threading.Thread | None:
    """Write every thread's stack to ``file`` (stderr) whenever no Python thread of this
    process could run for ``seconds``: native code holding the interpreter lock, or a deadlock
    around it. Returns the watching thread (None when ``seconds`` <= 0 or there is no file
    descriptor to write to).

    Why: uvicorn's supervisor kills a web worker that misses its 5 s health ping, and says
    nothing of why; a hang in a native library then leaves no trace at all (one in OpenVINO
    took sessions to find). The watching thread re-arms ``faulthandler``'s timer a few times
    per period; the timer fires from a C thread that needs no interpreter lock, so it reports
    exactly when the re-arming thread cannot get the lock. The report starts with faulthandler's
    ``Timeout (0:00:0N)!`` line. One such timer exists per process; nothing else here uses it.
    """
    if seconds <= 0:
        return None
    out = sys.stderr if file is None else file
    try:
        out.fileno()
    except (AttributeError, OSError, ValueError):
        return None

    def watch() -> None:
        while True:
            faulthandler.dump_traceback_later(seconds, repeat=False, file=out)
            time.sleep(max(0.05, seconds / 4))

    thread = threading.Thread(target=watch, name="paperwire-stall-watch", daemon=True)
    thread.start()
    return thread
