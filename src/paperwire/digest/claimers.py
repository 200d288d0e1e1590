"""Who holds a claimed ledger row: ``host:pid:random`` ids, and whether such a claimer is
known to be dead (same host, pid gone). Shared by the digest ledger (``send``) and the
notification mail ledger (``notify``).
"""

from __future__ import annotations

import os
import socket
import uuid

from paperwire.procs import pid_alive

_HOST = socket.gethostname()


def worker_id() -> str:
    """host:pid:random — lets a rerun on the same host see that a claimer has died."""
    return f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claimer_is_dead(claimer: str) -> bool:
    try:
        host, pid, _ = claimer.rsplit(":", 2)
        pid_n = int(pid)
    except ValueError:
        return False
    if host != _HOST:
        return False  # cannot tell for another machine: wait for the lease
    return not pid_alive(pid_n)
