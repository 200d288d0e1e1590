"""Rankings of recent searches, reused while the indexes they came from are unchanged.

The same search is asked for again and again: the next page of a query re-ranks it from the
start, the HTML page and its JSON twin ask for the same set, feed readers poll an Atom search
feed, and a community's popular queries repeat. A hybrid ranking at 1M papers costs ~15 ms of
CPU (docs/benchmarks.md); serving it again costs a dictionary lookup. Paper rows are never
cached: each response loads them fresh (upvotes, titles, hidden flags).

Invariants:
- An entry is returned only for the same key *and* the same ``version``: the caller's token
  of everything the ranking was computed from (the lexical generation, its state and its
  delta of not-yet-indexed papers; the semantic index's generation and applied changes). A
  change to any paper the index sees changes the token, so a cached ranking is never older
  than what an uncached search would answer.
- Rankings are shared between threads and callers: read-only once stored.
- At most ``size`` entries (least recently used evicted); ``size`` 0 stores nothing.
- Thread-safe (one lock, held for dictionary operations only).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class RankingCache(Generic[V]):
    def __init__(self, size: int) -> None:
        self.size = max(0, int(size))
        self._entries: OrderedDict[Hashable, tuple[Hashable, V]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, version: Hashable) -> V | None:
        """The value stored for ``key`` at this ``version``, or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != version:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[1]

    def put(self, key: Hashable, version: Hashable, value: V) -> None:
        if not self.size:
            return
        with self._lock:
            self._entries[key] = (version, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
