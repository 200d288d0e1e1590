"""Rankings shared by the web workers of one ``paperwire serve``: a search one worker ranked
is served by the others without ranking it again.

Each worker has its own ranking cache (search/cache.py); with N workers, a query was ranked N
times before every worker could answer it from memory, and those first requests (25-50 ms of
CPU at 1M papers, docs/benchmarks.md) made the tail of a busy server. ``paperwire serve``
with several workers names one SQLite file for the run (``SHARED_RANKINGS_ENV``); workers
look there after a miss in their own cache and store what they ranked.

Invariants:
- Only the workers of one ``serve`` run share a file: the file is made for the run and
  removed when it ends, so no ranking outlives the code, settings or model that made it, and
  other processes (the CLI, tests, jobs) never read one.
- An entry is returned only for the same key and the same *content* version: the lexical
  index's version (generation, commits, not-yet-indexed papers: the same in every process)
  and the semantic index's ``content_version`` (its generation and a digest of its in-memory
  entries, not a per-process counter). A worker whose indexes hold other papers asks another
  version, so a shared ranking is never older than what that worker would compute.
- A cache, never a dependency: any error (a locked, missing or corrupt file) is a miss, and a
  search never fails or waits long because of it (short busy timeout).
- Values are plain JSON (no pickle): ranked ids, total, memberships, notices, similarities.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import orjson

from paperwire.procs import pid_alive
from paperwire.search.results import Ranking

log = logging.getLogger(__name__)

# Set by `paperwire serve` for its workers: the path of this run's shared rankings file.
SHARED_RANKINGS_ENV = "PAPERWIRE_SHARED_RANKINGS"
# Bumped when the stored shape of a ranking changes.
FORMAT = 1
# Entries kept (the newest); trimmed every TRIM_EVERY stores.
MAX_ENTRIES = 20_000
TRIM_EVERY = 200


def key_text(*parts: Any) -> str:
    """A search's arguments as the shared key (JSON: the same in every process). ASCII JSON
    by the standard library: any string, a lone surrogate of a mis-decoded query included,
    has a key (orjson refuses those)."""
    return json.dumps([FORMAT, *parts], ensure_ascii=True)


def version_text(version: Any) -> str:
    """A content version (nested tuples of str, int, datetime, None) as a short digest; repr
    of these types is the same in every process (no hash randomization)."""
    return hashlib.sha1(repr(version).encode()).hexdigest()


def encode(ranking: Ranking) -> bytes:
    return orjson.dumps(
        {
            "ids": ranking.ids,
            "total": ranking.total,
            "matched_by": {p: sorted(v) for p, v in ranking.matched_by.items()},
            "notices": ranking.notices,
            "estimate": ranking.total_is_estimate,
            "more": ranking.has_more,
            "similarity": ranking.similarity,
        }
    )


def decode(raw: bytes) -> Ranking:
    d = orjson.loads(raw)
    return Ranking(
        [(str(p), float(s)) for p, s in d["ids"]],
        int(d["total"]),
        {p: set(v) for p, v in d["matched_by"].items()},
        list(d["notices"]),
        total_is_estimate=bool(d["estimate"]),
        has_more=bool(d["more"]),
        similarity={p: float(s) for p, s in d["similarity"].items()},
    )


class SharedRankings:
    """The shared file of one serve run (see the module docstring). Thread-safe."""

    def __init__(self, path: Path, *, max_entries: int = MAX_ENTRIES) -> None:
        self.path = Path(path)
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._stores = 0
        self.hits = 0
        self.misses = 0

    @classmethod
    def from_env(cls) -> SharedRankings | None:
        path = os.environ.get(SHARED_RANKINGS_ENV)
        return cls(Path(path)) if path else None

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self.path, timeout=0.05, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")  # a cache: losing it loses nothing
            conn.execute(
                "CREATE TABLE IF NOT EXISTS rankings "
                "(key TEXT PRIMARY KEY, version TEXT NOT NULL, value BLOB NOT NULL)"
            )
            self._conn = conn
        return self._conn

    def get(self, key: str, version: str) -> Ranking | None:
        try:
            with self._lock:
                row = (
                    self._connect()
                    .execute(
                        "SELECT value FROM rankings WHERE key = ? AND version = ?", (key, version)
                    )
                    .fetchone()
                )
            if row is None:
                self.misses += 1
                return None
            ranking = decode(row[0])
        except (sqlite3.Error, ValueError, KeyError, TypeError) as exc:
            log.debug("shared rankings: read failed (%s); ranking it here", exc)
            self.misses += 1
            return None
        self.hits += 1
        return ranking

    def put(self, key: str, version: str, ranking: Ranking) -> None:
        try:
            value = encode(ranking)
            with self._lock:
                conn = self._connect()
                with conn:
                    conn.execute(
                        "INSERT OR REPLACE INTO rankings (key, version, value) VALUES (?, ?, ?)",
                        (key, version, value),
                    )
                self._stores += 1
                if self._stores % TRIM_EVERY == 0:
                    with conn:
                        # REPLACE gives a row a new, larger rowid: keep the newest.
                        conn.execute(
                            "DELETE FROM rankings WHERE rowid <= "
                            "(SELECT max(rowid) FROM rankings) - ?",
                            (self.max_entries,),
                        )
        except (sqlite3.Error, TypeError) as exc:
            log.debug("shared rankings: store failed (%s)", exc)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def new_run_file(folder: Path) -> Path:
    """The shared file for a new serve run in ``folder`` (made if needed). Files of runs whose
    process is gone (killed before it could remove its own) are removed first."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("rankings-*.sqlite*"):
        pid = old.name.split("-", 1)[1].split(".", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            old.unlink(missing_ok=True)
    return folder / f"rankings-{os.getpid()}.sqlite"


def remove_run_file(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)
