"""``LexicalIndex``: one process's handle on the lexical index of a data dir.

Invariants:
- The index holds every visible paper whose ``modified_at`` <= ``watermark`` as of that
  paper's last change. Papers modified after the watermark (the "delta") are read from the
  database on every search and scored in Python with the same analyzers and BM25 formula, and
  they replace any index copy of the same paper. So a committed paper is searchable at once,
  from any process, and hidden papers never show.
- The watermark trails the refresh time by ``OVERLAP`` so that a transaction that stamped
  ``modified_at`` before a refresh but committed after it is still picked up; papers folded
  within that window are remembered at their version (search/storage/cursor.py).
- Writers hold the writer lock (``NamedLock.local`` on ``.lock``; search/storage/locks.py):
  a rebuild writes a new generation and publishes it through ``CURRENT`` only when complete
  (``Generation``; search/storage/files.py); a refresh commits to the live generation and then
  rewrites state.json (tantivy commits are atomic, refreshes idempotent). A ``kill -9`` at any
  point leaves either the old or the new state, and the next refresh/rebuild converges to
  the database.
- Threads: ``_index``, ``_gen``, ``_state`` and the file stamps are replaced only under
  ``_mutex`` (and ``_state`` is never mutated: files.State), so a search takes one
  consistent (index, state) pair under it and answers without it. The delta cache is only
  read or mutated under its own lock (delta.DeltaCache); ``shared_delta``'s pin is per thread.
- Lock order, outermost first: the writer lock, ``_mutex``, the delta cache's lock. One
  exception, as before the package split: ``_ensure_open`` rebuilds (taking the writer lock)
  while holding ``_mutex`` when no usable generation exists.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import tantivy

from paperwire.config import Settings
from paperwire.search.filters import Constraints
from paperwire.search.lexical import build, files, ranking
from paperwire.search.lexical.compiler import compile_query, expander, tantivy_query
from paperwire.search.lexical.delta import MAX_DELTA, Delta, DeltaCache, changed_since
from paperwire.search.lexical.documents import build_schema
from paperwire.search.lexical.files import State, Unavailable
from paperwire.search.lexical.ranking import LexicalResult, View
from paperwire.search.query import ParsedQuery
from paperwire.search.storage import NamedLock
from paperwire.search.storage.files import Stamp
from paperwire.store.db import Database
from paperwire.store.models import utcnow

# The package's name, as when it was one module (log settings and tests select it).
log = logging.getLogger("paperwire.search.lexical")

# How far the watermark may lag behind ``started - overlap`` before an idle refresh moves it.
WATERMARK_STEP = dt.timedelta(seconds=60)


class _Pin(threading.local):
    """This thread's ``shared_delta`` block: whether one is open, its delta once read, and
    whether the files were checked in it."""

    def __init__(self) -> None:
        self.pinned = False
        self.delta: Delta | None = None
        self.opened = False


class LexicalIndex:
    """One process's handle on the lexical index of a data dir (thread-safe; see the module
    docstring)."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.root = Path(settings.data_dir) / "index" / "lexical"
        self._mutex = threading.RLock()
        self._index: tantivy.Index | None = None
        self._gen: str | None = None
        self._state: State | None = None
        self._state_stamp: int | None = None
        self._current_stamp: Stamp | None = None
        self._files = files.generations(self.root)
        self._writer = NamedLock.local(self.root / ".lock")
        self._delta_cache = DeltaCache()
        self._local = _Pin()
        # (generation, papers, newest publication time): see _newest_anchor.
        self._anchor: tuple[str | None, int, int | None] | None = None
        self.schema = build_schema()

    # ---- opening ---------------------------------------------------------------------------
    def _open_generation(self, gen: str) -> None:
        opened = files.open_generation(self.root / gen)
        self._index, self._gen, self._state = opened.index, gen, opened.state
        self._state_stamp = opened.state_stamp

    def ensure_open(self) -> None:
        """Open the live generation, (re)loading when another process changed it; rebuild
        when missing or corrupt.

        Inside ``shared_delta`` the files are checked once per block: the searches of one
        request use one generation (as they use one delta), and the block does not pay the
        stat/read calls once per index call."""
        local = self._local
        if local.pinned and local.opened and self._index is not None:
            return
        self._ensure_open()
        if local.pinned:
            local.opened = True

    def _live(self) -> tuple[tantivy.Index, State]:
        """``ensure_open``, then the generation to answer from (one consistent pair)."""
        self.ensure_open()
        with self._mutex:
            if self._index is None or self._state is None:  # closed by another thread since
                self._ensure_open()
            # _ensure_open returns (under _mutex, which close() needs) only with both set.
            assert self._index is not None and self._state is not None
            return self._index, self._state

    def _ensure_open(self) -> None:
        with self._mutex:
            cur_stamp = self._files.stamp()
            gen = files.current(self._files) if cur_stamp is not None else None
            if self._index is not None and gen == self._gen and cur_stamp == self._current_stamp:
                self._maybe_reload()
                return
            if gen is None:
                # A fresh install (or a removed index): expected, hence INFO, not a warning.
                log.info("building the lexical index in %s from the database", self.root)
                started = time.monotonic()
                n = self.rebuild(progress=False)
                log.info("lexical index built: %d papers in %.1f s", n, time.monotonic() - started)
                return
            try:
                self._open_generation(gen)
                self._current_stamp = cur_stamp
                self._delta_cache.clear()
            except Unavailable as exc:
                log.warning("lexical index unusable (%s); rebuilding it from the database", exc)
                self.rebuild(progress=False)

    def _maybe_reload(self) -> None:
        """Another process refreshed the live generation: read its watermark, then reload
        tantivy (in this order, so the index is never older than the watermark we use)."""
        if self._index is None or self._gen is None:
            return  # nothing open to reload
        path = self.root / self._gen
        stamp = files.state_stamp(path)
        if stamp is None or stamp == self._state_stamp:
            return
        try:
            self._state = files.read_state(path)
        except Unavailable:
            return
        self._state_stamp = stamp
        self._index.reload()

    @property
    def pair_stems(self) -> frozenset[str]:
        """The live generation's frequent stems (whose adjacent pairs ``pairs`` holds)."""
        return self._state.pair_stems if self._state is not None else frozenset()

    @property
    def watermark(self) -> dt.datetime | None:
        return self._state.cursor.watermark if self._state is not None else None

    # ---- writing ---------------------------------------------------------------------------
    def rebuild(self, progress: bool | Callable[..., Any] = False) -> int:
        """Build a fresh generation from the database and make it live. Returns doc count."""
        with self._writer.hold(wait=True), self._mutex:
            started = utcnow()
            gen = f"gen-{started.strftime('%Y%m%dT%H%M%S%f')}-{os.getpid()}"
            path = self.root / gen
            live = files.current(self._files)
            self._files.cleanup(keep={live} if live else set())  # a killed build's leftovers
            n, state = build.build_generation(self.db, self.schema, path, started, progress)
            files.write_state(path, state)
            self._files.publish(gen, keep={gen})
            self._open_generation(gen)
            self._current_stamp = self._files.stamp()
            self._delta_cache.clear()
        # Papers changed while we were reading are after the watermark: fold them now.
        self.refresh(block=True)
        return n

    def refresh(self, *, block: bool = False) -> int | None:
        """Fold papers changed since the watermark into the index. Returns the number of
        papers looked at, or None when another process holds the writer lock."""
        self.ensure_open()
        with self._writer.hold(wait=block) as locked:
            if not locked:
                return None
            with self._mutex:
                # Re-read: another process may have moved the watermark or the generation.
                index, state = self._live()
                assert self._gen is not None  # set with _index, under _mutex (held)
                started = utcnow()
                wm = state.cursor.watermark
                changed, folded, committed = build.fold_changes(
                    self.db, index, state.cursor, state.pair_stems
                )
                # An idle tick moves the watermark only once it lags a step behind: each
                # move rewrites state.json (an fsync, under the mutex searches need) and makes
                # every other process re-read it and reload tantivy, which every 5 s was the
                # periodic stall in the web workers' tail latency. A lagging watermark only
                # widens the window the next read re-checks.
                lags = wm is None or started - state.cursor.overlap - WATERMARK_STEP > wm
                if lags or committed or folded:
                    # Papers folded at their current version need no delta scoring.
                    files.write_state(
                        self.root / self._gen, state.advanced(started, folded, committed=committed)
                    )
                    self._maybe_reload()
                    index.reload()
                return changed

    # ---- the delta -------------------------------------------------------------------------
    @contextlib.contextmanager
    def shared_delta(self) -> Iterator[None]:
        """Within the block, this thread's searches share one read of the not-yet-indexed
        papers (the first search reads it): the searches of one request (candidates,
        filters, counts) see the same database snapshot and pay for the read once."""
        local = self._local
        if local.pinned:
            yield  # nested: the outer block owns the snapshot
            return
        local.pinned, local.delta, local.opened = True, None, False
        try:
            yield
        finally:
            local.pinned, local.delta, local.opened = False, None, False

    def _delta(self) -> Delta:
        """Papers modified after the watermark, analyzed (cached by modified_at)."""
        local = self._local
        if local.pinned:
            if local.delta is None:
                local.delta = self._read_delta()
            return local.delta
        return self._read_delta()

    def _read_delta(self) -> Delta:
        """Analyzed not-yet-indexed papers (through the shared ``DeltaCache``)."""
        # A Core connection, not an ORM session: these are plain column reads, and this runs
        # on every search (the session's set-up and ORM execution path cost more than the
        # queries). One transaction: the list and the rows are one snapshot.
        with self.db.engine.connect() as session:
            changed = changed_since(session, self._live_state())
            if len(changed) > MAX_DELTA:
                # Too many to score per search: fold them first (or let the writer do it).
                session.rollback()
                if self.refresh(block=False) is not None:
                    changed = changed_since(session, self._live_state())
            return self._delta_cache.read(session, changed)

    def _live_state(self) -> State:
        """The current state (re-read after a refresh); callers opened the index before."""
        state = self._state
        return state if state is not None else self._live()[1]

    def version(self) -> tuple[object, ...]:
        """What this index answers from right now: the live generation, the commits of
        refreshes to it (``State.commits``) and the delta (each not-yet-indexed paper with
        its ``modified_at``; None when deleted). Equal versions answer every search the
        same, so a result cache may key on it. Not the state file's stamp: a refresh moves
        the watermark every few seconds without changing an answer. (A commit another
        process made shows in the searcher before its state does; its papers are then still
        in this delta, which shadows them: the answers are the same until the state moves.)
        Inside ``shared_delta`` it is the block's snapshot and costs no extra read."""
        _, state = self._live()
        delta = self._delta()
        with self._mutex:
            gen = self._gen
        return (
            gen,
            state.commits,
            tuple(
                (pid, None if doc is None else doc.row.modified_at) for pid, doc in delta.items()
            ),
        )

    # ---- searching -------------------------------------------------------------------------
    def _view(self, index: tantivy.Index, state: State, delta: Delta) -> View:
        searcher = index.searcher()
        gen = self._gen
        return View(
            self.schema,
            searcher,
            state.pair_stems,
            state.avg_len,
            delta,
            newest_anchor=lambda: self._newest_anchor(gen, searcher),
        )

    def _newest_anchor(self, gen: str | None, searcher: tantivy.Searcher) -> int | None:
        """The newest publication time of generation ``gen``, taken once per generation
        (ranking.newest_in_windows: a stale value only makes its windows wider). An index
        with no dated paper is asked again once it holds more papers."""
        cached = self._anchor
        if (
            cached is not None
            and cached[0] == gen
            and (cached[2] is not None or cached[1] == searcher.num_docs)
        ):
            return cached[2]
        value = ranking.newest_published(searcher)
        self._anchor = (gen, searcher.num_docs, value)
        return value

    def search(
        self,
        pq: ParsedQuery,
        cons: Constraints,
        *,
        limit: int,
        offset: int = 0,
        order: str = "relevance",
        prefix: bool = True,
    ) -> LexicalResult:
        """Top ``limit`` papers after ``offset``; ``order`` is "relevance" or "newest"."""
        index, state = self._live()
        # The delta first: reading it may fold a large delta into the index (a refresh), and
        # the searcher must then be the refreshed one.
        view = self._view(index, state, self._delta())
        cq = compile_query(pq, cons, prefix=prefix, expand=expander(view.searcher))
        return ranking.top(view, cq, limit=limit, offset=offset, order=order)

    def count(self, cons: Constraints) -> int:
        """How many visible papers pass the filters (exact up to not-yet-indexed papers)."""
        return self.search(ParsedQuery(), cons, limit=1).total

    def filter_ids(
        self, cons: Constraints, ids: list[str], phrases: tuple[str, ...] = ()
    ) -> set[str]:
        """The given papers that are visible and pass the constraints (filters, the query's
        exclusions and its required ``phrases``), decided by the index, or by the Python
        scorer for papers not indexed yet. Cheaper than loading rows: only survivors' ids
        are read."""
        if not ids:
            return set()
        index, state = self._live()
        view = self._view(index, state, self._delta())
        cq = compile_query(ParsedQuery(phrases=tuple(phrases)), cons)
        return ranking.passing(view, cq, cons, ids)

    def members(
        self, pq: ParsedQuery, cons: Constraints, ids: list[str], *, prefix: bool = True
    ) -> tuple[set[str], set[str]]:
        """``(passing, matching)`` of the given papers in one index pass: ``passing`` =
        ``filter_ids(cons, ids, phrases=pq.phrases)`` (visible, constraints and phrases hold),
        ``matching`` = the keys of ``score_ids(pq, cons, ids)`` (in the query's keyword set;
        a subset of ``passing``).

        One search of "constraints and phrases" (score-free) with the query's words as
        optional clauses, restricted to ``ids``: every word clause scores > 0 where it
        matches (BM25 with positive idf, boosts and prefix score > 0), so a passing paper
        matches the words exactly when its score is > 0 (the hybrid pool needed both answers
        and paid two searches for them)."""
        if not ids:
            return set(), set()
        index, state = self._live()
        view = self._view(index, state, self._delta())  # the delta before the searcher
        cq = compile_query(pq, cons, prefix=prefix, expand=expander(view.searcher))
        return ranking.members(view, cq, cons, ids)

    def score_ids(
        self, pq: ParsedQuery, cons: Constraints, ids: list[str], *, prefix: bool = True
    ) -> dict[str, float]:
        """BM25 scores of the given papers for the query (papers that do not match are
        absent). Used to complete fusion: semantic candidates get their real lexical score."""
        if not ids:
            return {}
        index, state = self._live()
        cq = compile_query(pq, cons, prefix=prefix, expand=expander(index.searcher()))
        query = tantivy_query(self.schema, cq, state.pair_stems)
        if query is None:
            return {}
        view = self._view(index, state, self._delta())
        return ranking.scores(view, cq, query, ids)

    def doc_count(self) -> int:
        index, _ = self._live()
        return index.searcher().num_docs

    def close(self) -> None:
        with self._mutex:
            self._index = None
            self._gen = None
