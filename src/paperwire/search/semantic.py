"""Semantic search: an ANN index (usearch HNSW, int8, cosine) over the stored embeddings.

Scores (``SEMANTIC_SCORE``) are cosine similarities in [-1, 1] between the query (or paper)
embedding and a paper's embedding as stored in the index (int8-quantized), higher is closer.

Layout under ``DATA_DIR/index/semantic/``::

    manifest.json        {"model_id", "dim", "count", "generation", "watermark", ...}
    main-<gen>.usearch   the HNSW graph + int8 vectors (opened as a memory-mapped *view*)
    table-<gen>.npz      sorted 63-bit keys (FNV-1a of the ids), the ids, and the int8
                         vectors in the same order (exact scoring of candidate sets)
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
- Reading from the database restarts at ``min(watermark, now - OVERLAP)`` because a
  PostgreSQL transaction may commit after a later-stamped one; rows stamped within the window
  that were already applied are remembered (bounded by the window) and skipped.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from usearch.index import Index

from paperwire.errors import NotFound
from paperwire.store.embeddings import embeddings_since, get_embeddings
from paperwire.store.models import utcnow

log = logging.getLogger(__name__)

SEMANTIC_SCORE = "cosine similarity in [-1, 1] (higher = closer)"
FORMAT = 3
OVERLAP = dt.timedelta(seconds=60)
# Candidate sets up to this size are scored exactly instead of through the ANN graph.
EXACT_LIMIT = 50_000
# The writer folds the delta into a new file generation once it holds this many entries.
COMPACT_MIN = 2_000
READ_BATCH = 5_000
HNSW = dict(connectivity=16, expansion_add=128, expansion_search=64)
# Search-time beam width: at 1M papers 256 lifts recall@10 vs exact from 0.78 to 0.82 for
# +0.15 ms p50 (bench/semantic_memory.py; docs/benchmarks.md).
EXPANSION_SEARCH = 256


def _new_graph(dim: int) -> Index:
    return Index(ndim=dim, metric="cos", dtype="i8", **HNSW)


def _insert(graph: Index, keys: np.ndarray, vectors: np.ndarray) -> None:
    """Add vectors to an HNSW graph one at a time, so every added node is reachable by search.

    usearch's parallel ``add`` (``threads`` != 1: its default uses every core) can strand
    nodes: they are stored (``contains``/``get`` work) but no search ever visits them, at any
    ``expansion_search`` (unum-cloud/USearch#735, unfixed in 2.26.6). Measured here: 2-4 of
    20,000 nodes per build, and kill -9 restarts reloading such a generation missed papers.
    Sequential insertion never did in the same measurements; it costs build speed only on an
    otherwise idle machine (a parallel build barely gains on 2 busy cores).
    """
    graph.add(keys, vectors, threads=1)


@dataclass(frozen=True)
class VectorSpace:
    """What an index needs to know of its encoder when vectors come from elsewhere
    (synthetic benchmark vectors, tools): ``search_text`` needs a real ``Encoder``."""

    model_id: str
    dim: int


_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_KEY_MASK = np.uint64(0x7FFF_FFFF_FFFF_FFFF)


def _id_bytes(ids: Iterable[str]) -> np.ndarray:
    ids = ids if isinstance(ids, list) else list(ids)
    try:
        arr = np.array(ids, dtype=np.bytes_)  # fast path: ASCII ids (all arXiv ids)
    except UnicodeEncodeError:
        arr = np.array([i.encode() for i in ids], dtype=np.bytes_)
    return arr if arr.dtype.itemsize else arr.astype("S1")


def _keys_of_bytes(arr: np.ndarray) -> np.ndarray:
    """63-bit FNV-1a of each id, vectorised over the byte columns (NUL padding skipped)."""
    h = np.full(len(arr), _FNV_OFFSET, dtype=np.uint64)
    if not len(arr):
        return h
    cols = arr.view(np.uint8).reshape(len(arr), arr.dtype.itemsize)
    with np.errstate(over="ignore"):
        for j in range(cols.shape[1]):
            col = cols[:, j].astype(np.uint64)
            h = np.where(col != 0, (h ^ col) * _FNV_PRIME, h)
    return h & _KEY_MASK


def _keys(ids: Iterable[str]) -> np.ndarray:
    return _keys_of_bytes(_id_bytes(ids))


def paper_key(paper_id: str) -> int:
    """Stable 63-bit key of a paper id (collisions among 1M ids: p ~ 3e-8; detected)."""
    return int(_keys([paper_id])[0])


def quantize(vecs: np.ndarray) -> np.ndarray:
    """Unit float vectors -> int8 (x127), the same scaling usearch's i8 storage uses."""
    return np.clip(np.rint(np.asarray(vecs, dtype=np.float32) * 127.0), -127, 127).astype(
        np.int8)


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


class _Table:
    """The main generation's entries: sorted uint64 keys, the ids, and int8 vectors, aligned.

    About 30 + dim bytes per entry; the arrays are memory-mapped from the generation's file
    (uncompressed .npz members), so several processes share them through the page cache.
    """

    def __init__(self, keys: np.ndarray, ids: np.ndarray, vecs: np.ndarray,
                 norms: np.ndarray | None = None, *, presorted: bool = False) -> None:
        if not presorted:
            order = np.argsort(keys, kind="stable")
            keys, ids, vecs = keys[order], ids[order], vecs[order]
            norms = None if norms is None else norms[order]
        if norms is None:  # int8 rows' lengths, kept so exact scoring needs one matmul
            norms = np.empty(len(vecs), dtype=np.float32)
            for start in range(0, len(vecs), 100_000):
                chunk = np.asarray(vecs[start:start + 100_000], dtype=np.float32)
                norms[start:start + 100_000] = np.sqrt(np.einsum("ij,ij->i", chunk, chunk))
            norms[norms == 0] = 1.0
        self.keys, self.ids, self.vecs, self.norms = keys, ids, vecs, norms

    @classmethod
    def empty(cls, dim: int) -> _Table:
        return cls(np.zeros(0, dtype=np.uint64), np.zeros(0, dtype="S1"),
                   np.zeros((0, dim), dtype=np.int8), presorted=True)

    def __len__(self) -> int:
        return len(self.keys)

    def positions(self, keys: np.ndarray) -> np.ndarray:
        """Row of each key, or -1 where absent (vectorised)."""
        if not len(self.keys):
            return np.full(len(keys), -1, dtype=np.int64)
        pos = np.searchsorted(self.keys, keys)
        pos = np.minimum(pos, len(self.keys) - 1)
        return np.where(self.keys[pos] == keys, pos, -1)

    def lookup(self, key: int) -> str | None:
        pos = int(self.positions(np.array([key], dtype=np.uint64))[0])
        return self.ids[pos].decode() if pos >= 0 else None

    def without(self, keys: set[int]) -> _Table:
        if not keys:
            return self
        keep = ~np.isin(self.keys, np.fromiter(keys, dtype=np.uint64))
        return _Table(self.keys[keep], self.ids[keep], np.asarray(self.vecs[keep]),
                      np.asarray(self.norms[keep]), presorted=True)

    def plus(self, keys: np.ndarray, ids: np.ndarray, vecs: np.ndarray) -> _Table:
        if not len(keys):
            return self
        width = max(self.ids.dtype.itemsize, ids.dtype.itemsize)
        more = _Table(keys, ids, vecs, presorted=True)
        return _Table(np.concatenate([self.keys, keys]),
                      np.concatenate([self.ids.astype(f"S{width}"), ids.astype(f"S{width}")]),
                      np.concatenate([np.asarray(self.vecs), vecs]),
                      np.concatenate([np.asarray(self.norms), more.norms]))

    def write(self, path: Path) -> None:
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        with open(tmp, "wb") as fh:
            np.savez(fh, keys=self.keys, ids=self.ids, vecs=np.asarray(self.vecs),
                     norms=np.asarray(self.norms))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    @classmethod
    def read(cls, path: Path, dim: int) -> _Table:
        arrays = _mmap_npz(path)
        table = cls(arrays["keys"], arrays["ids"], arrays["vecs"], arrays["norms"],
                    presorted=True)
        n = len(table.keys)
        if len(table.ids) != n or table.vecs.shape != (n, dim) or len(table.norms) != n \
                or np.any(table.keys[1:] < table.keys[:-1]):
            raise ValueError(f"{path.name} is inconsistent")
        return table


def _mmap_npz(path: Path) -> dict[str, np.ndarray]:
    """Memory-map the members of an uncompressed .npz (np.load cannot mmap inside a zip)."""
    import zipfile

    out = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if info.compress_type != zipfile.ZIP_STORED:
                raise ValueError(f"{path.name}: compressed member {info.filename}")
            with open(path, "rb") as fh:
                fh.seek(info.header_offset)
                local = fh.read(30)
                name_len = int.from_bytes(local[26:28], "little")
                extra_len = int.from_bytes(local[28:30], "little")
                start = info.header_offset + 30 + name_len + extra_len
                fh.seek(start)
                version = np.lib.format.read_magic(fh)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, fortran, dtype = read_header(fh)
                offset = fh.tell()
            name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            count = int(np.prod(shape)) if shape else 1
            if count == 0:
                out[name] = np.zeros(shape, dtype=dtype)
            else:
                out[name] = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape,
                                      order="F" if fortran else "C")
    for key in ("keys", "ids", "vecs", "norms"):
        if key not in out:
            raise ValueError(f"{path.name}: no {key}")
    return out


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
        self._table: _Table | None = None
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

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def table(self) -> _Table:
        if self._table is None:
            self._table = _Table.empty(self.dim)
        return self._table

    def __len__(self) -> int:
        with self._lock:
            self._ensure_loaded()
            return len(self.table) - len(self._tombstones) + len(self._delta_ids)

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
            main, table = None, _Table.empty(self.dim)
        else:
            path = self.folder / manifest["index_file"]
            if path.stat().st_size != int(manifest["index_bytes"]):
                raise ValueError(f"{path.name} has the wrong size")
            main = Index.restore(str(path), view=True)
            if main is not None:
                main.expansion_search = EXPANSION_SEARCH
            if main is None or len(main) != count or main.ndim != self.dim:
                raise ValueError(f"{path.name} does not hold {count} vectors of dim {self.dim}")
            table_path = self.folder / manifest["table_file"]
            if table_path.stat().st_size != int(manifest["table_bytes"]):
                raise ValueError(f"{table_path.name} has the wrong size")
            table = _Table.read(table_path, self.dim)
            if len(table) != count:
                raise ValueError("table file does not match the index")
        self._main, self._table, self._generation = main, table, gen
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
        index = _new_graph(self.dim)
        key_parts, id_parts, vec_parts = [], [], []
        watermark = None
        recent: dict[str, dt.datetime] = {}
        horizon = utcnow() - OVERLAP
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
                id_bytes = _id_bytes(batch.ids)
                keys = _keys_of_bytes(id_bytes)
                _insert(index, keys, batch.vectors)
                key_parts.append(keys)
                id_parts.append(id_bytes)
                vec_parts.append(quantize(batch.vectors))
                for pid, ts in zip(batch.ids, batch.created_at):
                    if ts >= horizon:  # may be re-read by refresh(): remember it
                        recent[pid] = ts
                after_ts, after_id = batch.last_key
                watermark = batch.last_key
                if bar is not None:
                    bar.update(len(batch))
        finally:
            if bar is not None:
                bar.close()
        if key_parts:
            width = max(p.dtype.itemsize for p in id_parts)
            table = _Table(np.concatenate(key_parts),
                           np.concatenate([p.astype(f"S{width}") for p in id_parts]),
                           np.concatenate(vec_parts))
        else:
            table = _Table.empty(self.dim)
        if len(np.unique(table.keys)) != len(table):
            log.warning("semantic index: paper id hash collision; some papers share a key")
        self._main = index if len(table) else None
        self._table = table
        self._reset_delta()
        self._watermark = watermark
        self._recent = recent
        if self.is_writer:
            self._save_generation(index)
            self._reopen_generation()
        log.info("semantic index rebuilt: %d papers in %.1f s", len(table),
                 time.monotonic() - started)

    def _save_generation(self, index: Index) -> None:
        """Write ``index`` + table as a new generation, then switch the manifest to it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        gen = max(self._generation, self._manifest_generation()) + 1
        index_file, table_file = f"main-{gen}.usearch", f"table-{gen}.npz"
        count = len(self.table)
        if count:
            tmp = self.folder / f".{index_file}.tmp-{os.getpid()}"
            index.save(str(tmp))
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, self.folder / index_file)
            self.table.write(self.folder / table_file)
        horizon = utcnow() - OVERLAP
        manifest = {
            "format": FORMAT, "model_id": self.model_id, "dim": self.dim, "count": count,
            "generation": gen, "index_file": index_file, "table_file": table_file,
            "index_bytes": (self.folder / index_file).stat().st_size if count else 0,
            "table_bytes": (self.folder / table_file).stat().st_size if count else 0,
            "dtype": "i8", "metric": "cos", "hnsw": HNSW,
            "watermark": ([_ts(self._watermark[0]), self._watermark[1]]
                          if self._watermark else None),
            "recent": {pid: _ts(ts) for pid, ts in self._recent.items() if ts >= horizon},
            "written_at": dt.datetime.now(dt.UTC).isoformat(),
        }
        _atomic_write_bytes(self.folder / "manifest.json",
                            json.dumps(manifest, indent=1).encode())
        _fsync_dir(self.folder)
        self._generation = gen
        # Older generations are no longer referenced (open views keep their inode alive).
        for old in self.folder.iterdir():
            if old.name.startswith(("main-", "table-")) \
                    and old.name not in (index_file, table_file):
                old.unlink(missing_ok=True)
            elif old.name.startswith(".") and ".tmp-" in old.name:
                old.unlink(missing_ok=True)

    def _manifest_generation(self) -> int:
        manifest = self._read_manifest()
        return int(manifest.get("generation", 0)) if manifest else 0

    def _reopen_generation(self) -> None:
        """Swap the in-memory copy just saved for memory-mapped views of the files."""
        manifest = self._read_manifest()
        if manifest and manifest.get("count"):
            self._main = Index.restore(str(self.folder / manifest["index_file"]), view=True)
            self._main.expansion_search = EXPANSION_SEARCH
            self._table = _Table.read(self.folder / manifest["table_file"], self.dim)

    def compact(self) -> bool:
        """Fold the delta into a new file generation (writer only). Returns True if done."""
        with self._lock:
            self._ensure_loaded()
            if not self._try_writer_lock():
                return False
            if not self._delta_ids and not self._tombstones:
                return False
            started = time.monotonic()
            main_file = self.folder / f"main-{self._generation}.usearch"
            if self._main is not None and len(self._main) and main_file.exists():
                merged = Index.restore(str(main_file), view=False)
            else:
                merged = _new_graph(self.dim)
            gone = np.fromiter(self._tombstones, dtype=np.uint64)
            if len(gone):
                merged.remove(gone)
            keys = np.fromiter(self._delta_ids.keys(), dtype=np.uint64)
            if len(keys):
                vecs = np.stack([self._delta_vecs[int(k)] for k in keys])
                _insert(merged, keys, vecs)
                ids = _id_bytes([self._delta_ids[int(k)] for k in keys])
                self._table = self.table.without(self._tombstones).plus(keys, ids,
                                                                        quantize(vecs))
            else:
                self._table = self.table.without(self._tombstones)
            self._save_generation(merged)
            self._main = merged if len(self._table) else None
            self._reset_delta()
            self._reopen_generation()
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
                    and manifest.get("model_id") == self.model_id \
                    and manifest.get("format") == FORMAT:
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
        horizon = utcnow() - OVERLAP
        if self._watermark is None:
            after_ts, after_id = None, ""
        elif self._watermark[0] < horizon:
            # Everything stamped before the horizon has committed: exact keyset resume.
            after_ts, after_id = self._watermark
        else:
            after_ts, after_id = horizon, ""
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
                if ts >= horizon:
                    self._recent[pid] = ts
            after_ts, after_id = batch.last_key
            if self._watermark is None or batch.last_key > self._watermark:
                self._watermark = batch.last_key
        self._recent = {p: t for p, t in self._recent.items() if t >= horizon}
        return applied

    def _upsert(self, ids: list[str], vectors: np.ndarray) -> None:
        if self._delta is None:
            self._delta = _new_graph(self.dim)
        keys = _keys(ids)
        replace = [int(k) for k in keys if int(k) in self._delta_ids]
        if replace:
            self._delta.remove(np.array(replace, dtype=np.uint64))
        in_main = self.table.positions(keys) >= 0
        self._tombstones.update(int(k) for k in keys[in_main])
        # One batch names a paper once (primary key), so keys are unique here.
        _insert(self._delta, keys, vectors)
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
        return key not in self._tombstones and self.table.lookup(key) is not None

    def _vector_by_key(self, key: int) -> np.ndarray | None:
        if key in self._delta_vecs:
            return self._delta_vecs[key]
        if key in self._tombstones:
            return None
        pos = int(self.table.positions(np.array([key], dtype=np.uint64))[0])
        if pos < 0:
            return None
        vec = np.asarray(self.table.vecs[pos], dtype=np.float32)
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm > 0 else vec

    def paper_ids(self) -> set[str]:
        """Ids of every paper in the index (for checks and tests; O(n))."""
        with self._lock:
            self._ensure_loaded()
            live = self.table.without(self._tombstones)
            return {i.decode() for i in live.ids} | set(self._delta_ids.values())

    def vector(self, paper_id: str) -> np.ndarray | None:
        """The indexed vector of a paper (int8-decoded, re-normalized to unit length), or None."""
        with self._lock:
            self._ensure_loaded()
            return self._vector_by_key(paper_key(paper_id))

    def search(self, query_vec: np.ndarray, k: int, *,
               candidate_ids: Iterable[str] | None = None,
               exclude: Iterable[str] = ()) -> list[tuple[str, float]]:
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
            # Superseded entries (tombstones) still sit in the main graph and may crowd the
            # nearest hits: ask for more until k live ones come back or the graph is exhausted.
            size = len(self._main)
            want = min(k + min(len(self._tombstones), 256), size)
            while True:
                matches = self._main.search(query, want)
                keys = np.asarray(matches.keys, dtype=np.uint64).reshape(-1)
                dists = np.asarray(matches.distances, dtype=np.float32).reshape(-1)
                pos = self.table.positions(keys)
                live = [(key, p, dist) for key, p, dist in
                        zip(keys.tolist(), pos.tolist(), dists.tolist())
                        if p >= 0 and key not in self._tombstones]
                if len(live) >= k or want >= size or len(keys) < want:
                    break
                want = min(size, want * 4)
            for _key, p, dist in live:
                scored[self.table.ids[p].decode()] = 1.0 - float(dist)
        if self._delta is not None and len(self._delta):
            matches = self._delta.search(query, min(k, len(self._delta)))
            for key, dist in zip(np.asarray(matches.keys).reshape(-1).tolist(),
                                 np.asarray(matches.distances).reshape(-1).tolist()):
                pid = self._delta_ids.get(key)
                if pid is not None:
                    scored[pid] = 1.0 - float(dist)
        return sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))[:k]

    def _exact(self, query: np.ndarray, cands: list[str], k: int) -> list[tuple[str, float]]:
        if not cands:
            return []
        id_bytes = _id_bytes(cands)
        keys = _keys_of_bytes(id_bytes)
        qnorm = max(float(np.linalg.norm(query)), 1e-12)
        scores = np.full(len(cands), -np.inf, dtype=np.float32)
        if self._delta_ids:
            for i, key in enumerate(keys.tolist()):
                vec = self._delta_vecs.get(key)
                if vec is not None:
                    scores[i] = float(vec @ query) / qnorm
        pos = self.table.positions(keys)
        usable = pos >= 0
        if self._tombstones:
            usable &= ~np.isin(keys, np.fromiter(self._tombstones, dtype=np.uint64))
        if usable.any():
            order = np.argsort(pos[usable], kind="stable")  # ascending rows: mmap locality
            rows_at = pos[usable][order]
            idx = np.flatnonzero(usable)[order]
            rows = self.table.vecs[rows_at].astype(np.float32)
            scores[idx] = (rows @ query) / self.table.norms[rows_at] / qnorm
        found = np.flatnonzero(np.isfinite(scores))
        if not len(found):
            return []
        top = found[np.argsort(-scores[found], kind="stable")[:k]]
        return [(cands[i], float(scores[i])) for i in top]

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
            self._table = None
            if self._writer_fh is not None:
                self._writer_fh.close()
                self._writer_fh = None
            self._loaded = False
        _unregister(self)

    def __enter__(self) -> SemanticIndex:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- in-process registry: lets papers_changed() mark open indexes dirty -----------------------

_OPEN: weakref.WeakSet[SemanticIndex] = weakref.WeakSet()
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
