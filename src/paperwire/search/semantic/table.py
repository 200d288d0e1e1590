"""The main generation's entries: ids, surrogate keys and int8 vectors, as ``.npy`` files.

A generation's table is a folder of four aligned arrays, rows sorted by paper id::

    ids.npy    S<w>     paper ids (ASCII/UTF-8 bytes), strictly increasing: unique
    keys.npy   uint64   each paper's surrogate key (its key in the HNSW graphs)
    vecs.npy   int8     (n, dim) the vectors as the graph stores them
    norms.npy  float32  the int8 rows' lengths (exact scoring needs one matmul)

Surrogate keys are integers the index hands out itself (``next_key`` in the manifest): a
paper keeps its key for the life of the index lineage (re-embedding reuses it, so the graph
can drop and re-add it), a new paper gets the next one; a rebuild numbers papers afresh.
Unlike the hashed ids of format 3 they cannot collide. ``row_of_key`` (a dense array,
8 bytes per key ever handed out) maps graph results to rows without a search.

The arrays are opened with ``np.load(mmap_mode="r")``, so several processes share them
through the page cache; about 20 + dim bytes per entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from paperwire.search.storage.files import fsync_dir, fsync_file

ARRAYS = ("ids", "keys", "vecs", "norms")


def id_bytes(ids: Iterable[str]) -> np.ndarray:
    """Paper ids as a numpy bytes array (UTF-8; at least one byte wide)."""
    ids = ids if isinstance(ids, list) else list(ids)
    try:
        arr = np.array(ids, dtype=np.bytes_)  # fast path: ASCII ids (all arXiv ids)
    except UnicodeEncodeError:
        arr = np.array([i.encode() for i in ids], dtype=np.bytes_)
    return arr if arr.dtype.itemsize else arr.astype("S1")


def _norms(vecs: np.ndarray) -> np.ndarray:
    norms = np.empty(len(vecs), dtype=np.float32)
    for start in range(0, len(vecs), 100_000):
        chunk = np.asarray(vecs[start : start + 100_000], dtype=np.float32)
        norms[start : start + 100_000] = np.sqrt(np.einsum("ij,ij->i", chunk, chunk))
    norms[norms == 0] = 1.0
    return norms


class VectorTable:
    """Aligned ids/keys/vecs/norms, sorted by id (see the module docstring). Immutable."""

    def __init__(
        self,
        ids: np.ndarray,
        keys: np.ndarray,
        vecs: np.ndarray,
        norms: np.ndarray | None = None,
        *,
        presorted: bool = False,
    ) -> None:
        if not presorted:
            order = np.argsort(ids, kind="stable")
            ids, keys, vecs = ids[order], keys[order], np.asarray(vecs)[order]
            norms = None if norms is None else np.asarray(norms)[order]
        self.ids, self.keys, self.vecs = ids, keys, vecs
        self.norms = _norms(vecs) if norms is None else norms
        size = int(keys.max()) + 1 if len(keys) else 0
        self.row_of_key = np.full(size, -1, dtype=np.int64)
        self.row_of_key[keys] = np.arange(len(keys), dtype=np.int64)

    @classmethod
    def empty(cls, dim: int) -> VectorTable:
        return cls(
            np.zeros(0, dtype="S1"),
            np.zeros(0, dtype=np.uint64),
            np.zeros((0, dim), dtype=np.int8),
            presorted=True,
        )

    def __len__(self) -> int:
        return len(self.ids)

    def rows_of_ids(self, ids: np.ndarray) -> np.ndarray:
        """Row of each id (a bytes array), or -1 where absent (vectorised)."""
        if not len(self.ids) or not len(ids):
            return np.full(len(ids), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.ids, ids), len(self.ids) - 1)
        return np.where(self.ids[pos] == ids, pos, -1)

    def row_of_id(self, paper_id: str) -> int:
        return int(self.rows_of_ids(id_bytes([paper_id]))[0])

    def rows_of_keys(self, keys: np.ndarray) -> np.ndarray:
        """Row of each surrogate key, or -1 where absent."""
        keys = np.asarray(keys, dtype=np.int64)
        inside = (keys >= 0) & (keys < len(self.row_of_key))
        out = np.full(len(keys), -1, dtype=np.int64)
        out[inside] = self.row_of_key[keys[inside]]
        return out

    def without(self, keys: set[int]) -> VectorTable:
        if not keys:
            return self
        keep = ~np.isin(self.keys, np.fromiter(keys, dtype=np.uint64))
        return VectorTable(
            self.ids[keep],
            self.keys[keep],
            np.asarray(self.vecs[keep]),
            np.asarray(self.norms[keep]),
            presorted=True,
        )

    def plus(self, ids: np.ndarray, keys: np.ndarray, vecs: np.ndarray) -> VectorTable:
        """This table and the entries given (ids absent from it), re-sorted by id."""
        if not len(ids):
            return self
        width = max(self.ids.dtype.itemsize, ids.dtype.itemsize)
        return VectorTable(
            np.concatenate([self.ids.astype(f"S{width}"), ids.astype(f"S{width}")]),
            np.concatenate([self.keys, keys.astype(np.uint64)]),
            np.concatenate([np.asarray(self.vecs), vecs]),
            np.concatenate([np.asarray(self.norms), _norms(vecs)]),
        )

    def write(self, folder: Path) -> None:
        """Write the arrays into ``folder`` (a new, staged folder) and fsync them."""
        folder.mkdir(parents=True, exist_ok=True)
        for name in ARRAYS:
            path = folder / f"{name}.npy"
            np.save(path, np.asarray(getattr(self, name)), allow_pickle=False)
            fsync_file(path)
        fsync_dir(folder)

    @classmethod
    def read(cls, folder: Path, dim: int) -> VectorTable:
        """Memory-map a table folder; ValueError when it is inconsistent."""
        arrays = {
            name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)
            for name in ARRAYS
        }
        ids, keys, vecs, norms = (arrays[n] for n in ARRAYS)
        n = len(ids)
        if (
            ids.dtype.kind != "S"
            or keys.dtype != np.uint64
            or vecs.dtype != np.int8
            or len(keys) != n
            or vecs.shape != (n, dim)
            or len(norms) != n
            or np.any(ids[1:] <= ids[:-1])
        ):
            raise ValueError(f"{folder.name} is inconsistent")
        table = cls(ids, keys, vecs, norms, presorted=True)
        if int(np.count_nonzero(table.row_of_key >= 0)) != n:
            raise ValueError(f"{folder.name} has duplicate keys")
        return table
