"""The semantic indexes open in this process, so ``papers_changed`` can mark them dirty.

Process-wide by necessity: ``search.notify.papers_changed(settings, db, ids)`` is called by
ingestion, which holds no reference to the search service's index; after embedding papers
synchronously it asks every open index of this process to refresh before its next search.
Weak references: an index nobody uses any more drops out by itself.
"""

from __future__ import annotations

import threading
import weakref
from typing import Protocol


class Dirtiable(Protocol):
    def mark_dirty(self) -> None: ...


class OpenIndexes:
    """A thread-safe weak set of open indexes."""

    def __init__(self) -> None:
        self._items: weakref.WeakSet[Dirtiable] = weakref.WeakSet()
        self._lock = threading.Lock()

    def add(self, index: Dirtiable) -> None:
        with self._lock:
            self._items.add(index)

    def discard(self, index: Dirtiable) -> None:
        with self._lock:
            self._items.discard(index)

    def mark_dirty(self) -> None:
        with self._lock:
            items = list(self._items)
        for index in items:
            index.mark_dirty()


OPEN_INDEXES = OpenIndexes()


def mark_open_indexes_dirty() -> None:
    """Make every semantic index open in this process refresh before its next search."""
    OPEN_INDEXES.mark_dirty()
