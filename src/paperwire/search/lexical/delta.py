"""The delta: papers changed after the index's watermark, read from the database per search.

A paper modified after the watermark may be missing from the index, or be there at an older
version; searches score such papers in Python (scoring.py) and drop their index copies, so a
committed change is searchable at once, from any process, and a hidden paper never shows.

Invariants:
- ``changed_since`` lists every paper the index may not hold at its current version: those
  modified after the watermark, minus those a refresh folded at that very version (the
  ``ChangeCursor``'s ``applied``, "recent" in state.json).
- A delta maps each listed paper to its analyzed ``DeltaDoc``, or to None when the paper was
  deleted between the listing and the read (it shadows the index copy and matches nothing).
- ``DeltaCache`` is shared by the searches of all threads: its dict is read and mutated only
  under its own lock, and a delta is built from the caller's own snapshot, so a concurrent
  prune never loses an entry of it.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field

from paperwire.search import analyzer
from paperwire.search.lexical.documents import body_text
from paperwire.search.lexical.files import State
from paperwire.store import search as store

# A delta bigger than this is folded into the index before searching (when we can get the lock).
MAX_DELTA = 20_000


@dataclass
class DeltaDoc:
    """A not-yet-indexed paper, analyzed as ``make_document`` analyzes it."""

    row: store.IndexRow
    title: list[tuple[int, str]]
    body: list[tuple[int, str]]
    authors: list[str]
    words: set[str]
    title_tf: dict[str, int] = field(default_factory=dict)
    body_tf: dict[str, int] = field(default_factory=dict)
    authors_tf: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, row: store.IndexRow) -> DeltaDoc:
        title = analyzer.stem_positions(row.title)
        body = analyzer.stem_positions(body_text(row.title, row.abstract))
        authors = analyzer.words(analyzer.author_text(row.authors))
        words = set(analyzer.words(row.title)) | set(analyzer.words(row.abstract))
        d = cls(row, title, body, authors, words)
        for _, s in title:
            d.title_tf[s] = d.title_tf.get(s, 0) + 1
        for _, s in body:
            d.body_tf[s] = d.body_tf.get(s, 0) + 1
        for w in authors:
            d.authors_tf[w] = d.authors_tf.get(w, 0) + 1
        return d


Delta = dict[str, DeltaDoc | None]


def changed_since(session: store.Reader, state: State) -> list[tuple[str, dt.datetime]]:
    """(id, modified_at) of papers the index may not hold at their current version.

    Papers folded recently (the cursor's ``applied``, all within the overlap window) are
    known to be in the index; rather than listing the whole window on every search, count
    it: when the count matches, only papers after the newest folded one need listing."""
    cursor = state.cursor
    if not cursor.applied or state.recent_max is None:
        return store.modified_since(session, cursor.watermark)
    changed = store.modified_since(session, state.recent_max)
    if store.count_modified_between(session, cursor.watermark, state.recent_max) != len(
        cursor.applied
    ):
        # A late commit inside the window (or a deletion): list the window.
        changed = cursor.pending(store.modified_since(session, cursor.watermark))
    return changed


class DeltaCache:
    """Analyzed delta papers by id, with the ``modified_at`` they were read at, so a search
    analyzes only papers changed since the previous one. Thread-safe (one lock)."""

    def __init__(self) -> None:
        self._docs: dict[str, tuple[dt.datetime, DeltaDoc]] = {}
        self._lock = threading.Lock()

    def known(self, changed: list[tuple[str, dt.datetime]]) -> dict[str, DeltaDoc]:
        """The listed papers cached at the listed version."""
        out: dict[str, DeltaDoc] = {}
        with self._lock:
            for pid, mt in changed:
                entry = self._docs.get(pid)
                if entry is not None and entry[0] == mt:
                    out[pid] = entry[1]
        return out

    def read(self, session: store.Reader, changed: list[tuple[str, dt.datetime]]) -> Delta:
        """The delta of the listed papers: cached ones as they are, the others read through
        ``session`` (in the listing's transaction) and analyzed; the cache then holds exactly
        the listed papers."""
        known = self.known(changed)
        need = [pid for pid, _ in changed if pid not in known]
        loaded = (
            {row.id: (row.modified_at, DeltaDoc.of(row)) for row in store.index_rows(session, need)}
            if need
            else {}
        )
        live = {pid for pid, _ in changed}
        with self._lock:
            self._docs.update(loaded)
            for pid in [p for p in self._docs if p not in live]:
                self._docs.pop(pid, None)
        out: Delta = {}
        for pid, _ in changed:
            if pid in known:
                out[pid] = known[pid]
            elif pid in loaded:
                out[pid] = loaded[pid][1]
            else:
                # Deleted from the DB after we listed it: shadow the index copy, match nothing.
                out[pid] = None
        return out

    def clear(self) -> None:
        with self._lock:
            self._docs.clear()
