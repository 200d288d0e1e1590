"""A small in-process TTL cache for the results of read queries behind anonymous pages.

Invariants: an entry is fresh for ``ttl_seconds``; once expired, it is served only to requests
arriving while one thread recomputes it (so at most one compute time past the TTL), never
after ``invalidate()``, which drops everything in this process at once (called after votes,
comments, submissions and moderation). Other worker processes see a change within the TTL
plus one compute time. A TTL of 0 disables caching.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any


class PageCache:
    # How long a request waits for another thread computing the same entry before computing
    # it itself (a slow query must not stall every reader of a page indefinitely).
    WAIT_SECONDS = 10.0

    def __init__(
        self,
        ttl_seconds: float = 5.0,
        max_entries: int = 2048,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = float(ttl_seconds)
        # Injected so tests move time on instead of sleeping past the TTL.
        self._clock = clock
        self.max_entries = max_entries
        self._data: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self._inflight: dict[Hashable, threading.Event] = {}
        self.generation = 0

    def get_or_compute(
        self, key: Hashable, compute: Callable[[], Any], keep: Callable[[Any], bool] | None = None
    ) -> Any:
        """The cached value, or ``compute()`` stored for the TTL (unless ``keep(value)`` is
        false: e.g. a transient failure notice that should be retried next time)."""
        if self.ttl <= 0:
            return compute()
        now = self._clock()
        hit = self._data.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        # Single flight: when an entry expires under load, one thread recomputes it and the
        # others wait for that result instead of all rendering the same page at once (which,
        # sharing one GIL, made every one of them as slow as all of them together).
        with self._lock:
            waiting = self._inflight.get(key)
            owner = waiting is None
            done = waiting if waiting is not None else threading.Event()
            if owner:
                self._inflight[key] = done
        if not owner:
            if hit is not None:
                # Expired and being recomputed by another thread: answer with the previous
                # value meanwhile instead of queueing every reader behind the recompute (that
                # stall, once per TTL, was the p99 of cached pages under load).
                return hit[1]
            done.wait(self.WAIT_SECONDS)
            hit = self._data.get(key)
            if hit is not None and hit[0] > self._clock():
                return hit[1]
            return compute()  # the owner failed, or its value was not kept
        try:
            generation = self.generation
            value = compute()
            with self._lock:
                # A write that invalidated while we computed must not be undone by a stale
                # value.
                if generation == self.generation and (keep is None or keep(value)):
                    if len(self._data) >= self.max_entries:
                        self._data.clear()
                    self._data[key] = (self._clock() + self.ttl, value)
            return value
        finally:
            with self._lock:
                self._inflight.pop(key, None)
            done.set()

    def peek(self, key: Hashable) -> Any | None:
        """The cached value if present and fresh, else None (never computes)."""
        if self.ttl <= 0:
            return None
        hit = self._data.get(key)
        if hit is not None and hit[0] > self._clock():
            return hit[1]
        return None

    def invalidate(self) -> None:
        with self._lock:
            self.generation += 1
            self._data.clear()
