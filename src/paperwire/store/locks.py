"""Cross-process locks, one place for the dialect switch (PostgreSQL advisory locks).

Two kinds:

- ``transaction_lock(session, namespace, key)``: held until the session's transaction ends
  (commit or rollback). PostgreSQL: ``pg_advisory_xact_lock(namespace, key)``. SQLite: a
  no-op that returns False — SQLite has one writer at a time, so callers there serialize by
  making a write the first statement of the transaction (which takes the database's write
  lock) and re-checking after it; the return value tells them which path they are on.
- ``named_lock(db, name, lock_dir=..., wait=...)``: a context manager held across many
  transactions (a batch job). PostgreSQL: a session-level advisory lock on a connection of
  its own, so every process on every host that shares the database is excluded. SQLite: an
  exclusive ``flock`` on ``<lock_dir>/<name>.lock`` (SQLite databases are local files, so the
  processes sharing one share the file system). Yields False when ``wait=False`` and another
  process holds the lock.
- ``file_lock(path, wait=...)``: the ``flock`` alone, for files of one data dir (index files,
  model exports) that processes on other hosts do not share.

Invariants: the integer keys are part of the on-disk/on-server protocol between processes of
different versions; callers that had a key before these helpers existed pass it explicitly
(``pg_key``), so an upgraded process still excludes an old one.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from paperwire.store.db import Database


def transaction_lock(session: Session, namespace: int, key: int) -> bool:
    """Take a transaction-scoped lock on (namespace, key), two signed 32-bit integers; True on
    PostgreSQL (held until the transaction ends), False on SQLite (nothing taken; see above)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    session.execute(
        text("SELECT pg_advisory_xact_lock(:cls, :key)"), {"cls": namespace, "key": key}
    )
    return True


def name_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name`` (for callers with no legacy key)."""
    return (zlib.crc32(b"paperwire:") << 32 | zlib.crc32(name.encode("utf-8"))) & 0x7FFFFFFFFFFFFFFF


@contextlib.contextmanager
def named_lock(
    db: Database, name: str, *, lock_dir: str | Path, wait: bool, pg_key: int | None = None
) -> Iterator[bool]:
    """Hold the cross-process lock ``name``; yields whether it was acquired (always True with
    ``wait=True``). ``db`` is a ``store.db.Database``."""
    if db.dialect == "postgresql":
        key = name_key(name) if pg_key is None else pg_key
        with db.engine.connect() as conn:
            if wait:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
                got = True
            else:
                got = bool(
                    conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
                )
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
        return
    with file_lock(Path(lock_dir) / f"{name}.lock", wait=wait) as got:
        yield got


@contextlib.contextmanager
def file_lock(path: str | Path, *, wait: bool) -> Iterator[bool]:
    """Hold an exclusive ``flock`` on ``path`` (created if missing); yields whether it was
    acquired (always True with ``wait=True``). For data one host's processes share (files in
    a data dir); the OS releases it if the process dies. Each call opens the file anew, so two
    holders in one process exclude each other too."""
    import fcntl

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
