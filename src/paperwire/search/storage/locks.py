"""``NamedLock``: one cross-process lock object over store/locks.py's two kinds.

- ``NamedLock.shared(db, name, lock_dir=...)``: excludes every process that shares the
  database (PostgreSQL: a session-level advisory lock, so other hosts too; SQLite: a
  ``flock`` in ``lock_dir``). For work on shared rows (the embedder).
- ``NamedLock.local(path)``: a ``flock`` on ``path``. For files of one data dir (index
  generations, model exports): processes on other hosts have their own data dir and must not
  be excluded.

Either can be held for a block (``with lock.hold(wait=...) as got``) or from ``acquire`` to
``release`` (an index's writer role, held for the process's life). The OS releases a flock
and PostgreSQL an advisory lock when the holder dies, so ``kill -9`` never leaves one behind.
Not reentrant: acquiring a held lock again returns True without taking it twice.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from paperwire.store.locks import file_lock, named_lock


class NamedLock:
    """A cross-process lock (see the module docstring). Thread-safe."""

    def __init__(
        self, describe: str, enter: Callable[[bool], AbstractContextManager[bool]]
    ) -> None:
        self.describe = describe
        self._enter = enter
        self._stack: contextlib.ExitStack | None = None
        self._mutex = threading.Lock()

    @classmethod
    def shared(
        cls, db: Any, name: str, *, lock_dir: str | Path, pg_key: int | None = None
    ) -> NamedLock:
        """A lock every process using ``db`` respects (``pg_key``: a legacy advisory key)."""
        return cls(
            name, lambda wait: named_lock(db, name, lock_dir=lock_dir, wait=wait, pg_key=pg_key)
        )

    @classmethod
    def local(cls, path: str | Path) -> NamedLock:
        """A lock the processes of this host respect (a ``flock`` on ``path``)."""
        return cls(str(path), lambda wait: file_lock(path, wait=wait))

    @property
    def held(self) -> bool:
        return self._stack is not None

    def acquire(self, *, wait: bool) -> bool:
        """Take the lock until ``release``; False when ``wait=False`` and another holds it."""
        with self._mutex:
            if self._stack is not None:
                return True
            stack = contextlib.ExitStack()
            try:
                got = stack.enter_context(self._enter(wait))
            except BaseException:
                stack.close()
                raise
            if not got:
                stack.close()
                return False
            self._stack = stack
            return True

    def release(self) -> None:
        with self._mutex:
            stack, self._stack = self._stack, None
        if stack is not None:
            stack.close()

    @contextlib.contextmanager
    def hold(self, *, wait: bool) -> Iterator[bool]:
        """Hold the lock for a block; yields whether it was acquired. A lock already held
        through ``acquire`` stays held after the block."""
        if self.held:
            yield True
            return
        with self._enter(wait) as got:
            yield got

    def __repr__(self) -> str:
        return f"NamedLock({self.describe!r}, held={self.held})"
