"""Making a main generation in memory: from the whole embeddings table (rebuild), or by
folding the delta into the current one (compaction). Writing it is files.py's job."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from usearch.index import Index

from paperwire.search.semantic.delta import Delta
from paperwire.search.semantic.graph import insert, new_graph, quantize, restore
from paperwire.search.semantic.table import VectorTable, id_bytes
from paperwire.search.storage import ChangeCursor
from paperwire.store.embeddings import count_embeddings, embeddings_since
from paperwire.store.models import utcnow

READ_BATCH = 20_000


@dataclass
class Built:
    graph: Index
    table: VectorTable
    next_key: int
    cursor: ChangeCursor


def from_database(db: Any, model_id: str, dim: int, *, progress: bool = False) -> Built:
    """Every stored embedding of ``model_id``: papers numbered 0..n-1 in read order (their
    surrogate keys), the cursor just past the read."""
    read_started = utcnow()
    graph = new_graph(dim)
    id_parts: list[np.ndarray] = []
    vec_parts: list[np.ndarray] = []
    stamps: list[tuple[str, dt.datetime]] = []
    bar = _progress_bar(db, model_id) if progress else None
    after_ts: dt.datetime | None = None
    after_id = ""
    n = 0
    try:
        while True:
            with db.session() as session:
                batch = embeddings_since(session, model_id, after_ts, after_id, READ_BATCH, dim=dim)
            if not len(batch) or batch.vectors is None or batch.last_key is None:
                break
            insert(graph, np.arange(n, n + len(batch), dtype=np.uint64), batch.vectors)
            id_parts.append(id_bytes(batch.ids))
            vec_parts.append(quantize(batch.vectors))
            stamps.extend(zip(batch.ids, batch.created_at))
            n += len(batch)
            after_ts, after_id = batch.last_key
            if bar is not None:
                bar.update(len(batch))
    finally:
        if bar is not None:
            bar.close()
    if id_parts:
        width = max(p.dtype.itemsize for p in id_parts)
        table = VectorTable(
            np.concatenate([p.astype(f"S{width}") for p in id_parts]),
            np.arange(n, dtype=np.uint64),
            np.concatenate(vec_parts),
        )
    else:
        table = VectorTable.empty(dim)
    cursor = ChangeCursor()
    cursor.advance(read_started, stamps)
    return Built(graph, table, n, cursor)


def fold(
    main_file: Path | None, table: VectorTable, delta: Delta, dim: int
) -> tuple[Index, VectorTable]:
    """The current generation (its graph loaded from ``main_file``) with the delta folded in:
    superseded entries removed, the delta's added under their keys."""
    graph = restore(str(main_file), view=False) if main_file is not None else None
    graph = graph if graph is not None else new_graph(dim)
    gone = np.fromiter(delta.tombstones, dtype=np.uint64)
    if len(gone):
        graph.remove(gone)
    table = table.without(delta.tombstones)
    keys = np.fromiter(delta.ids.keys(), dtype=np.uint64)
    if len(keys):
        vecs = np.stack([delta.vecs[int(k)] for k in keys])
        insert(graph, keys, vecs)
        table = table.plus(id_bytes([delta.ids[int(k)] for k in keys]), keys, quantize(vecs))
    return graph, table


def _progress_bar(db: Any, model_id: str) -> Any:
    import sys

    from tqdm import tqdm

    with db.session() as session:
        total = count_embeddings(session, model_id)
    return tqdm(total=total, desc="semantic index", unit="paper", file=sys.stderr)
