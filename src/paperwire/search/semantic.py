"""Semantic search: an ANN index (usearch HNSW, int8, cosine) over the stored embeddings.

Scores (``SEMANTIC_SCORE``) are cosine similarities in [-1, 1] between the query (or paper)
embedding and a paper's embedding as stored in the index (int8-quantized), higher is closer.

Layout under ``DATA_DIR/index/semantic/``::

    manifest.json        {"model_id", "dim", "count", "generation", "watermark", ...}
    main-<gen>.usearch   the HNSW graph + int8 vectors (opened as a memory-mapped *view*)
    ids-<gen>.npz        paper ids of the entries (keys are 63-bit hashes of the ids)
    .writer.lock         held (flock) by the one process allowed to write the files

Invariants:
- The index is derived data: everything in it comes from the ``embeddings`` table, and
  ``rebuild()`` recreates it from there. A missing or corrupt file, or a manifest naming
  another model, triggers a rebuild with a logged warning.
- Files are written under a new generation name (temp file, fsync, rename) and only then
  does the manifest (itself replaced atomically) point at them: ``kill -9`` at any moment
  leaves the previous complete generation in force.
- Rows committed after the manifest's watermark are replayed from the database by
  ``refresh()`` into an in-memory *delta* index; superseded entries of the memory-mapped main
  index are masked by tombstones. The process holding the writer lock periodically folds the
  delta into a new generation (compaction); other processes only read.
- Reading from the database starts ``OVERLAP`` before the watermark because PostgreSQL
  commit order differs from timestamp order; rows already applied are recognised and skipped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

# onnxruntime must be loaded before usearch: usearch's extension module, loaded first, makes
# onnxruntime's module initialisation crash (segfault in libstdc++) in this environment.
import onnxruntime  # noqa: F401  isort: skip
from usearch.index import Index  # noqa: E402  isort: skip

from paperwire.errors import NotFound  # noqa: E402
from paperwire.store.embeddings import embeddings_since, get_embeddings  # noqa: E402

log = logging.getLogger(__name__)

SEMANTIC_SCORE = "cosine similarity in [-1, 1] (higher = closer)"
FORMAT = 1
OVERLAP = dt.timedelta(seconds=60)
# Candidate sets up to this size are scored exactly instead of through the ANN graph.
EXACT_LIMIT = 50_000
# The writer folds the delta into a new file generation once it holds this many entries.
COMPACT_MIN = 2_000
READ_BATCH = 5_000
HNSW = dict(connectivity=16, expansion_add=128, expansion_search=64)


@dataclass(frozen=True)
class VectorSpace:
    """What an index needs to know of its encoder when vectors come from elsewhere
    (synthetic benchmark vectors, tools): ``search_text`` needs a real ``Encoder``."""

    model_id: str
    dim: int


def paper_key(paper_id: str) -> int:
    """Stable 63-bit key of a paper id (collisions among 1M ids: p ~ 5e-8; detected)."""
    return int.from_bytes(hashlib.blake2b(paper_id.encode(), digest_size=8).digest(),
                          "little") & 0x7FFF_FFFF_FFFF_FFFF


def _keys(ids: Iterable[str]) -> np.ndarray:
    return np.fromiter((paper_key(i) for i in ids), dtype=np.uint64)


def _ts(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_ts(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class _IdTable:
    """key -> paper id for the main generation: sorted uint64 keys + fixed-width id bytes.

    About 30 bytes per entry (1M papers: ~30 MB) instead of ~150 MB for a Python dict.
    """

    def __init__(self, keys: np.ndarray, ids: np.ndarray) -> None:
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.ids = ids[order]

    @classmethod
    def from_ids(cls, ids: Sequence[str]) -> "_IdTable":
        width = max((len(i.encode()) for i in ids), default=1)
        arr = np.array([i.encode() for i in ids], dtype=f"S{max(width, 1)}")
        return cls(_keys(ids), arr)

    @classmethod
    def empty(cls) -> "_IdTable":
        return cls(np.zeros(0, dtype=np.uint64), np.zeros(0, dtype="S1"))

    def __len__(self) -> int:
        return len(self.keys)

    def lookup(self, key: int) -> str | None:
        pos = int(np.searchsorted(self.keys, np.uint64(key)))
        if pos < len(self.keys) and int(self.keys[pos]) == key:
            return self.ids[pos].decode()
        return None

    def all_ids(self) -> list[str]:
        return [i.decode() for i in self.ids]

    def without(self, keys: set[int]) -> "_IdTable":
        if not keys:
            return self
        keep = ~np.isin(self.keys, np.fromiter(keys, dtype=np.uint64))
        return _IdTable(self.keys[keep], self.ids[keep])

    def plus(self, extra: dict[int, str]) -> "_IdTable":
        if not extra:
            return self
        more = _IdTable.from_ids(list(extra.values()))
        width = max(self.ids.dtype.itemsize, more.ids.dtype.itemsize)
        return _IdTable(np.concatenate([self.keys, more.keys]),
                        np.concatenate([self.ids.astype(f"S{width}"),
                                        more.ids.astype(f"S{width}")]))

    def to_bytes(self) -> bytes:
        import io

        buf = io.BytesIO()
        np.savez(buf, keys=self.keys, ids=self.ids)
        return buf.getvalue()

    @classmethod
    def from_file(cls, path: Path) -> "_IdTable":
        with np.load(path, allow_pickle=False) as data:
            table = cls.__new__(cls)
            table.keys, table.ids = data["keys"], data["ids"]
        if len(table.keys) != len(table.ids) or np.any(table.keys[1:] < table.keys[:-1]):
            raise ValueError(f"{path.name} is inconsistent")
        return table


class SemanticIndex:
    """ANN index over the embeddings of ``encoder.model_id``; see the module docstring.

    ``encoder`` defaults to ``get_encoder(settings)``; anything with ``model_id`` and ``dim``
    (e.g. ``VectorSpace``) works for everything but ``search_text``. Thread-safe.
    """

    def __init__(self, settings, db, encoder=None, *, compact_min: int = COMPACT_MIN) -> None:
        self.settings = settings
        self.db = db
        self._encoder = encoder
        self.folder = Path(settings.data_dir) / "index" / "semantic"
        self.compact_min = compact_min
        self._lock = threading.RLock()
        self._writer_fh = None
        self._main: Index | None = None
        self._main_ids = _IdTable.empty()
        self._generation = 0
        self._delta: Index | None = None
        self._delta_ids: dict[int, str] = {}
        self._delta_vecs: dict[int, np.ndarray] = {}
        self._tombstones: set[int] = set()
        self._watermark: tuple[dt.datetime, str] | None = None
        self._recent: dict[str, dt.datetime] = {}
        self._loaded = False
        self._dirty = True
        self.last_refresh = 0.0
        _register(self)

    # --- properties -----------------------------------------------------------------------

    @property
    def encoder(self):
        if self._encoder is None:
            from paperwire.search.embed import get_encoder

            self._encoder = get_encoder(self.settings)
        return self._encoder

    @property
    def model_id(self) -> str:
        return self.encoder.model_id

    @property
    def dim(self) -> int:
        return self.encoder.dim

    @property
    def is_writer(self) -> bool:
        return self._writer_fh is not None

    def __len__(self) -> int:
        with self._lock:
            self._ensure_loaded()
            main = len(self._main) if self._main is not None else 0
            return main - len(self._tombstones) + len(self._delta_ids)

    def __contains__(self, paper_id: str) -> bool:
        with self._lock:
            self._ensure_loaded()
            return self._has_key(paper_key(paper_id))

    # --- loading --------------------------------------------------------------------------

    def _try_writer_lock(self) -> bool:
        if self._writer_fh is not None:
            return True
        import fcntl

        self.folder.mkdir(parents=True, exist_ok=True)
        fh = open(self.folder / ".writer.lock", "a")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            return False
        self._writer_fh = fh
        return True

    def _read_manifest(self) -> dict | None:
        try:
            return json.loads((self.folder / "manifest.json").read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("semantic index manifest unreadable (%s); rebuilding the index", exc)
            return None

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        self._try_writer_lock()
        manifest = self._read_manifest()
        reason = None
        if manifest is None:
            reason = "no semantic index yet" if not (self.folder / "manifest.json").exists() \
                else "manifest unreadable"
        elif manifest.get("format") != FORMAT:
            reason = "index format changed"
        elif manifest.get("model_id") != self.model_id:
            reason = (f"embedding model changed ({manifest.get('model_id')} -> "
                      f"{self.model_id})")
        else:
            try:
                self._open_generation(manifest)
            except Exception as exc:  # noqa: BLE001 - any damage means: rebuild
                reason = f"index files damaged ({exc})"
        if reason is not None:
            (log.info if manifest is None and "yet" in reason else log.warning)(
                "semantic index: %s; rebuilding from the database", reason)
            self._rebuild_locked(progress=False)
        self._loaded = True

    def _open_generation(self, manifest: dict) -> None:
        gen = int(manifest["generation"])
        count = int(manifest["count"])
        if count == 0:
            main, ids = None, _IdTable.empty()
        else:
            path = self.folder / manifest["index_file"]
            if path.stat().st_size != int(manifest["index_bytes"]):
                raise ValueError(f"{path.name} has the wrong size")
            main = Index.restore(str(path), view=True)
            if main is None or len(main) != count or main.ndim != self.dim:
                raise ValueError(f"{path.name} does not hold {count} vectors of dim {self.dim}")
            ids = _IdTable.from_file(self.folder / manifest["ids_file"])
            if len(ids) != count:
                raise ValueError("ids file does not match the index")
        self._main, self._main_ids, self._generation = main, ids, gen
        self._reset_delta()
        self._watermark = None
        if manifest.get("watermark"):
            ts, pid = manifest["watermark"]
            self._watermark = (_parse_ts(ts), pid)
        self._recent = {pid: _parse_ts(ts) for pid, ts in manifest.get("recent", {}).items()}

    def _reset_delta(self) -> None:
        self._delta = None
        self._delta_ids = {}
        self._delta_vecs = {}
        self._tombstones = set()

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
        index = Index(ndim=self.dim, metric="cos", dtype="i8", **HNSW)
        ids: list[str] = []
        watermark = None
        recent: dict[str, dt.datetime] = {}
        bar = None
        if progress:
            import sys

            from tqdm import tqdm

            from paperwire.store.embeddings import count_embeddings

            with self.db.session() as session:
                total = count_embeddings(session, self.model_id)
            bar = tqdm(total=total, desc="semantic index", unit="paper", file=sys.stderr)
        after_ts, after_id = None, ""
        try:
            while True:
                with self.db.session() as session:
                    batch = embeddings_since(session, self.model_id, after_ts, after_id,
                                             READ_BATCH * 4, dim=self.dim)
                if not len(batch):
                    break
                keys = _keys(batch.ids)
                index.add(keys, batch.vectors, threads=0)
                ids.extend(batch.ids)
                after_ts, after_id = batch.last_key
                watermark = batch.last_key
                if bar is not None:
                    bar.update(len(batch))
        finally:
            if bar is not None:
                bar.close()
        if watermark is not None:
            cutoff = watermark[0] - OVERLAP
            # Only the tail within the overlap window can be re-read by refresh().
            for pid, ts in self._tail_keys(cutoff):
                recent[pid] = ts
        if len(set(_keys(ids).tolist())) != len(ids):
            log.warning("semantic index: paper id hash collision; some papers share a key")
        self._main = index
        self._main_ids = _IdTable.from_ids(ids) if ids else _IdTable.empty()
        self._reset_delta()
        self._watermark = watermark
        self._recent = recent
        if self.is_writer:
            self._save_generation(index)
            self._main = self._reopen_view() or index
        log.info("semantic index rebuilt: %d papers in %.1f s", len(ids),
                 time.monotonic() - started)

    def _tail_keys(self, cutoff: dt.datetime) -> list[tuple[str, dt.datetime]]:
        out = []
        after_ts, after_id = cutoff, ""
        while True:
            with self.db.session() as session:
                batch = embeddings_since(session, self.model_id, after_ts, after_id,
                                         READ_BATCH, dim=self.dim)
            if not len(batch):
                return out
            out.extend(zip(batch.ids, batch.created_at))
            after_ts, after_id = batch.last_key

    def _save_generation(self, index: Index) -> None:
        """Write ``index`` + ids as a new generation, then switch the manifest to it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        gen = self._generation + 1
        index_file, ids_file = f"main-{gen}.usearch", f"ids-{gen}.npz"
        count = len(index)
        if count:
            tmp = self.folder / f".{index_file}.tmp-{os.getpid()}"
            index.save(str(tmp))
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, self.folder / index_file)
            _atomic_write_bytes(self.folder / ids_file, self._main_ids.to_bytes())
        manifest = {
            "format": FORMAT, "model_id": self.model_id, "dim": self.dim, "count": count,
            "generation": gen, "index_file": index_file, "ids_file": ids_file,
            "index_bytes": (self.folder / index_file).stat().st_size if count else 0,
            "dtype": "i8", "metric": "cos", "hnsw": HNSW,
            "watermark": ([_ts(self._watermark[0]), self._watermark[1]]
                          if self._watermark else None),
            "recent": {pid: _ts(ts) for pid, ts in self._recent.items()},
            "written_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        }
        _atomic_write_bytes(self.folder / "manifest.json",
                            json.dumps(manifest, indent=1).encode())
        _fsync_dir(self.folder)
        self._generation = gen
        # Older generations are no longer referenced (open views keep their inode alive).
        for old in self.folder.iterdir():
            if old.name.startswith(("main-", "ids-")) and old.name not in (index_file, ids_file):
                old.unlink(missing_ok=True)
            elif old.name.startswith(".") and ".tmp-" in old.name:
                old.unlink(missing_ok=True)

    def _reopen_view(self) -> Index | None:
        manifest = self._read_manifest()
        if not manifest or not manifest.get("count"):
            return None
        return Index.restore(str(self.folder / manifest["index_file"]), view=True)

    def compact(self) -> bool:
        """Fold the delta into a new file generation (writer only). Returns True if done."""
        with self._lock:
            self._ensure_loaded()
            if not self._try_writer_lock():
                return False
            if not self._delta_ids and not self._tombstones:
                return False
            started = time.monotonic()
            if self._main is not None and len(self._main):
                merged = Index.restore(str(self.folder / f"main-{self._generation}.usearch"),
                                       view=False) if self._generation else self._main.copy()
            else:
                merged = Index(ndim=self.dim, metric="cos", dtype="i8", **HNSW)
            gone = np.fromiter(self._tombstones, dtype=np.uint64)
            if len(gone):
                merged.remove(gone)
            keys = np.fromiter(self._delta_ids.keys(), dtype=np.uint64)
            if len(keys):
                merged.add(keys, np.stack([self._delta_vecs[int(k)] for k in keys]))
            self._main_ids = self._main_ids.without(self._tombstones).plus(self._delta_ids)
            self._save_generation(merged)
            self._main = self._reopen_view() or merged
            self._reset_delta()
            log.info("semantic index compacted: %d papers in %.1f s", len(self),
                     time.monotonic() - started)
            return True

    # --- refresh --------------------------------------------------------------------------

    def refresh(self) -> int:
        """Apply embeddings committed since the watermark; returns how many were applied.

        Cheap when nothing is new (one indexed query). Picks up a newer file generation
        written by another process, and compacts when this process is the writer.
        """
        with self._lock:
            self._ensure_loaded()
            manifest = self._read_manifest()
            if manifest and int(manifest.get("generation", 0)) > self._generation \
                    and manifest.get("model_id") == self.model_id:
                try:
                    self._open_generation(manifest)
                except Exception as exc:  # noqa: BLE001
                    log.warning("semantic index: cannot open generation %s (%s); keeping the "
                                "current one", manifest.get("generation"), exc)
            applied = self._apply_new_rows()
            self._dirty = False
            self.last_refresh = time.monotonic()
            if len(self._delta_ids) + len(self._tombstones) >= self.compact_min \
                    and self._try_writer_lock():
                self.compact()
            return applied

    def _apply_new_rows(self) -> int:
        applied = 0
        if self._watermark is None:
            after_ts, after_id = None, ""
        else:
            after_ts, after_id = self._watermark[0] - OVERLAP, ""
        while True:
            with self.db.session() as session:
                batch = embeddings_since(session, self.model_id, after_ts, after_id,
                                         READ_BATCH, dim=self.dim)
            if not len(batch):
                break
            fresh = [i for i, (pid, ts) in enumerate(zip(batch.ids, batch.created_at))
                     if self._recent.get(pid) != ts]
            if fresh:
                self._upsert([batch.ids[i] for i in fresh], batch.vectors[fresh])
                applied += len(fresh)
            for pid, ts in zip(batch.ids, batch.created_at):
                self._recent[pid] = ts
            after_ts, after_id = batch.last_key
            if self._watermark is None or batch.last_key > self._watermark:
                self._watermark = batch.last_key
        if self._watermark is not None:
            cutoff = self._watermark[0] - OVERLAP
            self._recent = {p: t for p, t in self._recent.items() if t >= cutoff}
        return applied

    def _upsert(self, ids: list[str], vectors: np.ndarray) -> None:
        if self._delta is None:
            self._delta = Index(ndim=self.dim, metric="cos", dtype="i8", **HNSW)
        keys = _keys(ids)
        replace = [int(k) for k in keys if int(k) in self._delta_ids]
        if replace:
            self._delta.remove(np.array(replace, dtype=np.uint64))
        for key in keys.tolist():
            if self._main is not None and self._main_ids.lookup(key) is not None:
                self._tombstones.add(key)
        # A batch may list one paper once only (primary key), so keys are unique here.
        self._delta.add(keys, vectors)
        for key, pid, vec in zip(keys.tolist(), ids, vectors):
            self._delta_ids[key] = pid
            self._delta_vecs[key] = np.array(vec, dtype=np.float32)

    def mark_dirty(self) -> None:
        """Refresh before the next search (``papers_changed`` calls this after embedding
        papers in this process, so they are found at once, not at the next periodic refresh)."""
        self._dirty = True

    def maybe_refresh(self, max_age: float | None = None) -> None:
        """Refresh if marked dirty or older than ``max_age`` seconds (default: setting)."""
        max_age = self.settings.index_refresh_seconds if max_age is None else max_age
        if self._dirty or time.monotonic() - self.last_refresh >= max_age:
            self.refresh()

    # --- queries --------------------------------------------------------------------------

    def _has_key(self, key: int) -> bool:
        if key in self._delta_ids:
            return True
        return key not in self._tombstones and self._main_ids.lookup(key) is not None

    def _id_of(self, key: int) -> str | None:
        if key in self._delta_ids:
            return self._delta_ids[key]
        if key in self._tombstones:
            return None
        return self._main_ids.lookup(key)

    def _vector_by_key(self, key: int) -> np.ndarray | None:
        if key in self._delta_vecs:
            return self._delta_vecs[key]
        if key in self._tombstones or self._main is None:
            return None
        if self._main_ids.lookup(key) is None:
            return None
        vec = self._main.get(np.uint64(key), dtype=np.float32)
        if vec is None:
            return None
        vec = np.asarray(vec, dtype=np.float32)
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm > 0 else vec

    def paper_ids(self) -> set[str]:
        """Ids of every paper in the index (for checks and tests; O(n))."""
        with self._lock:
            self._ensure_loaded()
            live = self._main_ids.without(self._tombstones)
            return {i.decode() for i in live.ids} | set(self._delta_ids.values())

    @property
    def generation(self) -> int:
        return self._generation

    def vector(self, paper_id: str) -> np.ndarray | None:
        """The indexed vector of a paper (int8-decoded, re-normalized to unit length), or None."""
        with self._lock:
            self._ensure_loaded()
            return self._vector_by_key(paper_key(paper_id))

    def search(self, query_vec: np.ndarray, k: int, *,
               candidate_ids: Iterable[str] | None = None,
               exclude: Iterable[str] = ()) -> list[tuple[str, float]]:
        """Top-k (paper_id, cosine) for a query vector, best first.

        ``candidate_ids`` restricts results to that set: small sets are scored exactly,
        large ones through the ANN graph with oversampling.
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
                    return self._exact(query, cands, k)
                want = min(len(self), max(k * 4, int(k * len(self) / len(cands)) * 2),
                           20_000)
                allowed = set(cands)
                hits = self._ann(query, want + len(excluded))
                return [(p, s) for p, s in hits if p in allowed][:k]
            hits = self._ann(query, k + len(excluded))
            return [(p, s) for p, s in hits if p not in excluded][:k]

    def _ann(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        scored: dict[str, float] = {}
        if self._main is not None and len(self._main):
            extra = min(len(self._tombstones), 256)
            matches = self._main.search(query, min(k + extra, len(self._main)))
            for key, dist in zip(matches.keys.tolist(), matches.distances.tolist()):
                if key in self._tombstones:
                    continue
                pid = self._main_ids.lookup(key)
                if pid is not None:
                    scored[pid] = 1.0 - float(dist)
        if self._delta is not None and len(self._delta):
            matches = self._delta.search(query, min(k, len(self._delta)))
            for key, dist in zip(matches.keys.tolist(), matches.distances.tolist()):
                pid = self._delta_ids.get(key)
                if pid is not None:
                    scored[pid] = 1.0 - float(dist)
        return sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))[:k]

    def _exact(self, query: np.ndarray, cands: list[str], k: int) -> list[tuple[str, float]]:
        ids, vecs = [], []
        main_keys = []
        for pid in cands:
            key = paper_key(pid)
            if key in self._delta_vecs:
                ids.append(pid)
                vecs.append(self._delta_vecs[key])
            elif key not in self._tombstones and self._main_ids.lookup(key) is not None:
                main_keys.append((pid, key))
        if main_keys and self._main is not None:
            got = self._main.get(np.array([k_ for _, k_ in main_keys], dtype=np.uint64),
                                 dtype=np.float32)
            if isinstance(got, np.ndarray) and got.ndim == 1:
                got = (got,)
            for (pid, _), vec in zip(main_keys, got):
                if vec is not None:
                    ids.append(pid)
                    vecs.append(vec)
        if not ids:
            return []
        mat = np.asarray(vecs, dtype=np.float32)
        norms = np.linalg.norm(mat, axis=1)
        norms[norms == 0] = 1.0
        scores = (mat @ query) / norms / max(float(np.linalg.norm(query)), 1e-12)
        top = np.argsort(-scores, kind="stable")[:k]
        return [(ids[i], float(scores[i])) for i in top]

    def search_text(self, text: str, k: int, **kwargs) -> list[tuple[str, float]]:
        return self.search(self.encoder.encode_query(text), k, **kwargs)

    def similar(self, paper_id: str, k: int, **kwargs) -> list[tuple[str, float]]:
        """Nearest neighbours of a paper, itself excluded; NotFound without an embedding."""
        with self._lock:
            self._ensure_loaded()
            vec = self._vector_by_key(paper_key(paper_id))
        if vec is None:
            with self.db.session() as session:
                vec = get_embeddings(session, self.model_id, [paper_id]).get(paper_id)
            if vec is None:
                raise NotFound(f"paper {paper_id} has no embedding yet (it is embedded in "
                               "the background within a minute of being added)")
        exclude = set(kwargs.pop("exclude", ())) | {paper_id}
        return self.search(vec, k, exclude=exclude, **kwargs)

    def close(self) -> None:
        with self._lock:
            self._main = None
            self._delta = None
            if self._writer_fh is not None:
                self._writer_fh.close()
                self._writer_fh = None
            self._loaded = False
        _unregister(self)

    def __enter__(self) -> "SemanticIndex":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- in-process registry: lets papers_changed() mark open indexes dirty -----------------------

_OPEN: "weakref.WeakSet[SemanticIndex]" = weakref.WeakSet()
_OPEN_LOCK = threading.Lock()


def _register(index: SemanticIndex) -> None:
    with _OPEN_LOCK:
        _OPEN.add(index)


def _unregister(index: SemanticIndex) -> None:
    with _OPEN_LOCK:
        _OPEN.discard(index)


def mark_open_indexes_dirty() -> None:
    with _OPEN_LOCK:
        for index in _OPEN:
            index.mark_dirty()
