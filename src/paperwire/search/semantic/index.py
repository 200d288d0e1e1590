"""``SemanticIndex``: the main generation (memory-mapped) + the delta, kept current.

Invariants:
- The index is derived data: everything in it comes from the ``embeddings`` table, and
  ``rebuild()`` recreates it from there. A missing or corrupt file, a manifest of an older
  format or naming another model triggers a rebuild with a logged warning.
- Files are written under a new generation name and only then does the manifest (replaced
  atomically) point at them: ``kill -9`` at any moment leaves the previous complete
  generation in force (search/storage/files.py).
- Rows committed after the generation's cursor are replayed from the database by
  ``refresh()`` into the delta; the process holding the writer lock (search/storage/locks.py)
  periodically folds the delta into a new generation (compaction); other processes only read.
- Reading restarts at the cursor's watermark, ``OVERLAP`` behind the last read's start,
  because a PostgreSQL transaction may commit after a later-stamped one; rows of that window
  already applied are skipped (search/storage/cursor.py).

Why this module is long: ``SemanticIndex`` coordinates generation, delta, cursor and writer
lock, which all its methods share; its pieces live in semantic/ and search/storage/.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from usearch.index import Index

from paperwire.errors import NotFound
from paperwire.search.semantic import build, files
from paperwire.search.semantic.delta import Delta
from paperwire.search.semantic.graph import restore
from paperwire.search.semantic.registry import OPEN_INDEXES
from paperwire.search.semantic.scoring import ann, exact
from paperwire.search.semantic.table import VectorTable, id_bytes
from paperwire.search.storage import ChangeCursor, NamedLock
from paperwire.search.storage.files import Stamp
from paperwire.store.embeddings import embeddings_since, get_embeddings
from paperwire.store.models import utcnow

log = logging.getLogger(__name__)

# Candidate sets up to this size are scored exactly instead of through the ANN graph.
EXACT_LIMIT = 50_000
# The writer folds the delta into a new file generation once it holds this many entries.
COMPACT_MIN = 2_000
READ_BATCH = 5_000


class SemanticIndex:
    """ANN index over the embeddings of ``encoder.model_id``; see the module docstring.

    ``encoder`` defaults to ``get_encoder(settings)``; anything with ``model_id`` and ``dim``
    (e.g. ``VectorSpace``) works for everything but ``search_text``. Thread-safe.
    """

    def __init__(
        self, settings: Any, db: Any, encoder: Any = None, *, compact_min: int = COMPACT_MIN
    ) -> None:
        self.settings = settings
        self.db = db
        self._encoder = encoder
        self.folder = Path(settings.data_dir) / "index" / "semantic"
        self.compact_min = compact_min
        self._lock = threading.RLock()
        self._files = files.generations(self.folder)
        self._writer = NamedLock.local(self.folder / ".writer.lock")
        self._main: Index | None = None
        self._table: VectorTable | None = None
        self._generation = 0
        self._next_key = 0
        self._delta: Delta | None = None
        # Bumped by every change to what searches answer from (``version``).
        self._changes = 0
        self._cursor = ChangeCursor()
        # The manifest's stamp as last read: refresh re-reads and parses it only when another
        # process published since (a manifest carries its cursor's recent changes and can be
        # megabytes; parsing it every tick stalled the web workers).
        self._manifest_seen: Stamp | None = None
        self._loaded = False
        self._dirty = True
        self.last_refresh = 0.0
        # (version(), content_version()) as last computed: the digest is redone per change.
        self._content_memo: tuple[tuple[int, int], tuple[int, str]] | None = None
        OPEN_INDEXES.add(self)

    # --- properties -----------------------------------------------------------------------

    @property
    def encoder(self) -> Any:
        if self._encoder is None:
            from paperwire.search.embed import get_encoder

            self._encoder = get_encoder(self.settings)
        return self._encoder

    @property
    def model_id(self) -> str:
        return str(self.encoder.model_id)

    @property
    def dim(self) -> int:
        return int(self.encoder.dim)

    @property
    def is_writer(self) -> bool:
        return self._writer.held

    @property
    def generation(self) -> int:
        return self._generation

    def version(self) -> tuple[int, int]:
        """What the next search answers from: equal versions answer every search the same
        (a result cache keys on it). Changes with the generation and with every applied
        change; papers embedded in this process are applied first, as a search would.
        Lock-free when there is nothing to apply (every cached search asks, and the lock is
        held by other threads' searches): two ints read under the GIL."""
        if self._loaded and not self._dirty:
            return self._generation, self._changes
        with self._lock:
            self._ensure_loaded()
            if self._dirty:
                self.refresh()
            return self._generation, self._changes

    def content_version(self) -> tuple[int, str]:
        """What searches answer from, in terms every process agrees on: the generation and a
        digest of the delta's entries (paper ids with their vectors, and the main entries
        they supersede). ``version`` counts this process's changes, so two processes holding
        the same entries differ there but not here (search/shared_cache.py keys on it).
        Computed once per ``version``."""
        local = self.version()
        memo = self._content_memo
        if memo is not None and memo[0] == local:
            return memo[1]
        with self._lock:
            local = (self._generation, self._changes)
            delta = self.delta
            digest = hashlib.sha1()
            for pid in sorted(delta.keys):
                digest.update(pid.encode() + b"\0")
                digest.update(np.ascontiguousarray(delta.vecs[delta.keys[pid]]).tobytes())
            digest.update(b"|" + np.array(sorted(delta.tombstones), dtype=np.uint64).tobytes())
            value = (self._generation, digest.hexdigest())
            self._content_memo = (local, value)
        return value

    @property
    def table(self) -> VectorTable:
        if self._table is None:
            self._table = VectorTable.empty(self.dim)
        return self._table

    @property
    def delta(self) -> Delta:
        if self._delta is None:
            self._delta = Delta(self.dim)
        return self._delta

    def __len__(self) -> int:
        with self._lock:
            self._ensure_loaded()
            return len(self.table) - len(self.delta.tombstones) + len(self.delta)

    def __contains__(self, paper_id: object) -> bool:
        with self._lock:
            self._ensure_loaded()
            return isinstance(paper_id, str) and self._vector_of(paper_id) is not None

    # --- loading --------------------------------------------------------------------------

    def _try_writer_lock(self) -> bool:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self._writer.acquire(wait=False)

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        self._try_writer_lock()
        self._manifest_seen = self._files.stamp()
        manifest = files.read_manifest(self._files)
        reason = None
        if manifest is None:
            reason = (
                "no semantic index yet" if self._files.read() is None else "manifest unreadable"
            )
        elif manifest.get("format") != files.FORMAT:
            reason = "index format changed"
        elif manifest.get("model_id") != self.model_id:
            reason = f"embedding model changed ({manifest.get('model_id')} -> {self.model_id})"
        else:
            try:
                self._open(manifest)
            except Exception as exc:  # noqa: BLE001 - any damage means: rebuild
                reason = f"index files damaged ({exc})"
        if reason is not None:
            (log.info if manifest is None and "yet" in reason else log.warning)(
                "semantic index: %s; rebuilding from the database", reason
            )
            self._rebuild_locked(progress=False)
        self._loaded = True

    def _open(self, manifest: dict[str, Any]) -> None:
        loaded = files.open_generation(self.folder, manifest, self.dim)
        self._main, self._table = loaded.graph, loaded.table
        self._generation, self._next_key = loaded.number, loaded.next_key
        self._cursor = loaded.cursor
        self._delta = None
        self._changes += 1

    def _publish(self, graph: Index) -> None:
        """Save ``graph`` + the table as the next generation, then map the files back in."""
        current = files.read_manifest(self._files)
        number = (
            max(
                self._generation,
                int(current.get("generation", 0)) if current else 0,
                self._files.highest_number(),
            )
            + 1
        )
        files.save_generation(
            self._files,
            number,
            graph,
            self.table,
            model_id=self.model_id,
            dim=self.dim,
            next_key=self._next_key,
            cursor=self._cursor,
        )
        self._generation = number
        manifest = files.read_manifest(self._files)
        if manifest and manifest.get("count"):
            # Swap the in-memory copies just saved for memory-mapped views of the files.
            self._main = restore(str(self.folder / manifest["index_file"]), view=True)
            self._table = VectorTable.read(self.folder / manifest["table_dir"], self.dim)

    # --- writing --------------------------------------------------------------------------

    def rebuild(self, progress: bool = False) -> int:
        """Recreate the index from the embeddings table; returns the number of entries."""
        with self._lock:
            self._try_writer_lock()
            self._rebuild_locked(progress=progress)
            self._loaded = True
            return len(self)

    def _rebuild_locked(self, *, progress: bool) -> None:
        started = time.monotonic()
        built = build.from_database(self.db, self.model_id, self.dim, progress=progress)
        self._main = built.graph if len(built.table) else None
        self._table, self._next_key, self._delta = built.table, built.next_key, None
        self._changes += 1
        self._cursor = built.cursor
        if self.is_writer:
            self._publish(built.graph)
        log.info(
            "semantic index rebuilt: %d papers in %.1f s",
            len(built.table),
            time.monotonic() - started,
        )

    def compact(self) -> bool:
        """Fold the delta into a new file generation (writer only). Returns True if done."""
        with self._lock:
            self._ensure_loaded()
            if not self._try_writer_lock() or not self.delta.changes:
                return False
            started = time.monotonic()
            main_file = self.folder / f"main-{self._generation}.usearch"
            has_main = self._main is not None and len(self._main) and main_file.exists()
            merged, table = build.fold(
                main_file if has_main else None, self.table, self.delta, self.dim
            )
            self._table, self._delta = table, None
            self._changes += 1
            self._main = merged if len(table) else None
            self._publish(merged)
            log.info(
                "semantic index compacted: %d papers in %.1f s",
                len(self),
                time.monotonic() - started,
            )
            return True

    # --- refresh --------------------------------------------------------------------------

    def refresh(self) -> int:
        """Apply embeddings committed since the cursor; returns how many were applied.

        Cheap when nothing is new (one indexed query over the overlap window). Picks up a
        newer file generation written by another process, and compacts when this process
        is the writer.
        """
        with self._lock:
            self._ensure_loaded()
            seen = self._files.stamp()
            manifest = files.read_manifest(self._files) if seen != self._manifest_seen else None
            self._manifest_seen = seen
            if (
                manifest
                and int(manifest.get("generation", 0)) > self._generation
                and manifest.get("model_id") == self.model_id
                and manifest.get("format") == files.FORMAT
            ):
                try:
                    self._open(manifest)
                except Exception as exc:  # noqa: BLE001
                    log.warning(
                        "semantic index: cannot open generation %s (%s); keeping the current one",
                        manifest.get("generation"),
                        exc,
                    )
            applied = self._apply_new_rows()
            self._dirty = False
            self.last_refresh = time.monotonic()
            if self.delta.changes >= self.compact_min and self._try_writer_lock():
                self.compact()
            return applied

    def _apply_new_rows(self) -> int:
        applied = 0
        started = utcnow()
        after_ts, after_id = self._cursor.watermark, ""
        seen: list[tuple[str, Any]] = []
        while True:
            with self.db.session() as session:
                batch = embeddings_since(
                    session, self.model_id, after_ts, after_id, READ_BATCH, dim=self.dim
                )
            if not len(batch):
                break
            fresh = [
                i
                for i, (pid, ts) in enumerate(zip(batch.ids, batch.created_at))
                if not self._cursor.is_applied(pid, ts)
            ]
            if fresh:
                assert batch.vectors is not None
                self._upsert([batch.ids[i] for i in fresh], batch.vectors[fresh])
                applied += len(fresh)
            seen.extend(zip(batch.ids, batch.created_at))
            after_ts, after_id = batch.last_key  # type: ignore[misc]
        self._cursor.advance(started, seen)
        return applied

    def _upsert(self, ids: list[str], vectors: np.ndarray) -> None:
        rows = self.table.rows_of_ids(id_bytes(ids))
        keys = np.empty(len(ids), dtype=np.uint64)
        for i, (pid, row) in enumerate(zip(ids, rows.tolist())):
            key = self.delta.keys.get(pid)
            if key is None:
                key = int(self.table.keys[row]) if row >= 0 else self._new_key()
            keys[i] = key
        self.delta.upsert(keys, ids, vectors, rows >= 0)
        self._changes += 1

    def _new_key(self) -> int:
        key, self._next_key = self._next_key, self._next_key + 1
        return key

    def mark_dirty(self) -> None:
        """Refresh before the next search (``papers_changed`` calls this after embedding
        papers in this process, so they are found at once, not at the next periodic refresh)."""
        self._dirty = True

    def maybe_refresh(self, max_age: float | None = None) -> None:
        """Refresh if marked dirty or older than ``max_age`` seconds (default: setting)."""
        max_age = self.settings.index_refresh_seconds if max_age is None else max_age
        if self._dirty or time.monotonic() - self.last_refresh >= float(max_age):
            self.refresh()

    # --- queries --------------------------------------------------------------------------

    def _vector_of(self, paper_id: str) -> np.ndarray | None:
        key = self.delta.keys.get(paper_id)
        if key is not None:
            return self.delta.vecs[key]
        row = self.table.row_of_id(paper_id)
        if row < 0 or int(self.table.keys[row]) in self.delta.tombstones:
            return None
        vec = np.asarray(self.table.vecs[row], dtype=np.float32)
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm > 0 else vec

    def paper_ids(self) -> set[str]:
        """Ids of every paper in the index (for checks and tests; O(n))."""
        with self._lock:
            self._ensure_loaded()
            live = self.table.without(self.delta.tombstones)
            return {i.decode() for i in live.ids} | set(self.delta.keys)

    def vector(self, paper_id: str) -> np.ndarray | None:
        """The indexed vector of a paper (int8-decoded, re-normalized to unit length), or None."""
        with self._lock:
            self._ensure_loaded()
            return self._vector_of(paper_id)

    def search(
        self,
        query_vec: np.ndarray,
        k: int,
        *,
        candidate_ids: Iterable[str] | None = None,
        exclude: Iterable[str] = (),
    ) -> list[tuple[str, float]]:
        """Top-k (paper_id, cosine) for a query vector, best first.

        ``candidate_ids`` restricts results to that set: sets up to ``EXACT_LIMIT`` are
        scored exactly (vectorised over the int8 table), larger ones through the ANN graph
        with oversampling.
        """
        query = np.asarray(query_vec, dtype=np.float32).reshape(-1)
        excluded = set(exclude)
        if k <= 0:
            return []
        with self._lock:
            self._ensure_loaded()
            if self._dirty:  # papers were embedded in this process: make them findable now
                self.refresh()
            if candidate_ids is not None:
                cands = [c for c in dict.fromkeys(candidate_ids) if c not in excluded]
                if len(cands) <= EXACT_LIMIT:
                    return exact(self.table, self.delta, query, cands, k)
                want = min(len(self), max(k * 4, int(k * len(self) / len(cands)) * 2), 20_000)
                allowed = set(cands)
                hits = ann(self._main, self.table, self.delta, query, want + len(excluded))
                return [(p, s) for p, s in hits if p in allowed][:k]
            hits = ann(self._main, self.table, self.delta, query, k + len(excluded))
            return [(p, s) for p, s in hits if p not in excluded][:k]

    def search_text(self, text: str, k: int, **kwargs: Any) -> list[tuple[str, float]]:
        return self.search(self.encoder.encode_query(text), k, **kwargs)

    def similar(self, paper_id: str, k: int, **kwargs: Any) -> list[tuple[str, float]]:
        """Nearest neighbours of a paper, itself excluded; NotFound without an embedding."""
        with self._lock:
            self._ensure_loaded()
            vec = self._vector_of(paper_id)
        if vec is None:
            with self.db.session() as session:
                vec = get_embeddings(session, self.model_id, [paper_id]).get(paper_id)
            if vec is None:
                raise NotFound(
                    f"paper {paper_id} has no embedding yet (it is embedded in "
                    "the background within a minute of being added)"
                )
        exclude = set(kwargs.pop("exclude", ())) | {paper_id}
        return self.search(vec, k, exclude=exclude, **kwargs)

    def close(self) -> None:
        with self._lock:
            self._main = None
            self._delta = None
            self._table = None
            self._changes += 1
            self._writer.release()
            self._loaded = False
        OPEN_INDEXES.discard(self)

    def __enter__(self) -> SemanticIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
