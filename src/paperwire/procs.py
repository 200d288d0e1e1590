"""Process helpers shared by areas that recover work of processes that died."""

from __future__ import annotations

import os


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
