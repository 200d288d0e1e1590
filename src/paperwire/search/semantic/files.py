"""A semantic index generation on disk: the manifest and the files it names.

Layout under ``DATA_DIR/index/semantic/``::

    manifest.json        {"format", "model_id", "dim", "count", "generation", "next_key",
                          "cursor", ...}: the pointer of the ``Generation``
    main-<gen>.usearch   the HNSW graph + int8 vectors (opened as a memory-mapped *view*)
    table-<gen>/         the entries as .npy arrays (table.py)
    .writer.lock         held (flock) by the one process allowed to write the files

Format history: 3 kept the table in one ``table-<gen>.npz`` keyed by FNV-1a hashes of the
ids; 4 (this) keeps ``.npy`` arrays keyed by surrogate keys. A data dir of an older format
is rebuilt from the database on first open (derived data; a logged warning), and its files
are removed by the first publish.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from usearch.index import Index

from paperwire.search.semantic.graph import HNSW, restore
from paperwire.search.semantic.table import VectorTable
from paperwire.search.storage import ChangeCursor, Generation
from paperwire.search.storage.files import install

log = logging.getLogger(__name__)

FORMAT = 4


def generations(folder: Path) -> Generation:
    return Generation(folder, "manifest.json", ("main-", "table-"))


def read_manifest(gen: Generation) -> dict[str, Any] | None:
    """The live manifest; None when there is none or it is unreadable (logged)."""
    text = gen.read()
    if text is None:
        return None
    try:
        manifest = json.loads(text)
        if not isinstance(manifest, dict):
            raise ValueError("not an object")
        return manifest
    except ValueError as exc:
        log.warning("semantic index manifest unreadable (%s); rebuilding the index", exc)
        return None


@dataclass
class Loaded:
    """What a generation holds once opened."""

    number: int
    graph: Index | None
    table: VectorTable
    next_key: int
    cursor: ChangeCursor


def open_generation(folder: Path, manifest: dict[str, Any], dim: int) -> Loaded:
    """Open the generation a manifest names (memory-mapped); ValueError/OSError if damaged."""
    count = int(manifest["count"])
    graph: Index | None = None
    table = VectorTable.empty(dim)
    if count:
        path = folder / manifest["index_file"]
        if path.stat().st_size != int(manifest["index_bytes"]):
            raise ValueError(f"{path.name} has the wrong size")
        graph = restore(str(path), view=True)
        if graph is None or len(graph) != count or graph.ndim != dim:
            raise ValueError(f"{path.name} does not hold {count} vectors of dim {dim}")
        table = VectorTable.read(folder / manifest["table_dir"], dim)
        if len(table) != count:
            raise ValueError("table does not match the index")
    next_key = int(manifest["next_key"])
    if len(table) and int(table.keys.max()) >= next_key:
        raise ValueError("next_key is not above every key")
    return Loaded(
        int(manifest["generation"]),
        graph,
        table,
        next_key,
        ChangeCursor.from_json(manifest.get("cursor")),
    )


def save_generation(
    gen: Generation,
    number: int,
    graph: Index,
    table: VectorTable,
    *,
    model_id: str,
    dim: int,
    next_key: int,
    cursor: ChangeCursor,
) -> None:
    """Write ``graph`` + ``table`` as generation ``number``, then switch the manifest to it
    and remove older generations (writer only)."""
    folder = gen.folder
    index_file, table_dir = f"main-{number}.usearch", f"table-{number}"
    count = len(table)
    if count:
        staged = gen.staging(index_file)
        graph.save(str(staged))
        install(staged, folder / index_file)
        staged_table = gen.staging(table_dir)
        table.write(staged_table)
        install(staged_table, folder / table_dir)
    manifest = {
        "format": FORMAT,
        "model_id": model_id,
        "dim": dim,
        "count": count,
        "generation": number,
        "index_file": index_file,
        "table_dir": table_dir,
        "index_bytes": (folder / index_file).stat().st_size if count else 0,
        "next_key": next_key,
        "dtype": "i8",
        "metric": "cos",
        "hnsw": HNSW,
        "cursor": cursor.to_json(),
        "written_at": dt.datetime.now(dt.UTC).isoformat(),
    }
    # Older generations are no longer referenced (open views keep their inodes alive).
    gen.publish(json.dumps(manifest, indent=1), keep={index_file, table_dir})
