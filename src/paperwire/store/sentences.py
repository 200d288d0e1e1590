"""Sentence vectors in the ``sentence_vectors`` table (one row per paper).

Storage format: ``vectors`` holds ``count`` x ``dim`` int8 values, the unit-length float
vectors x 127 rounded (the scaling of the ANN index, ``semantic.quantize``): 384 bytes per
sentence for a 384-d model, ~3.3 KB for an average abstract. Decoded vectors are
re-normalized, so the int8 rounding only perturbs directions (measured: no loss of
nDCG@10 on SciFact, docs/benchmarks.md).

Invariants:
- One row per paper; writing again upserts (two embedders racing leave one valid row).
- Rows are written by ``embedding_jobs`` in the same transaction as the paper's
  ``embeddings`` row, with the same ``content_hash`` and model id: a paper never has a
  current embedding with stale or missing sentence vectors after a commit.
- A paper without abstract sentences gets a row with ``count = 0`` (it is done, not pending).
- Readers load only the rows they name (chunks of ``_CHUNK`` ids per query).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
from sqlalchemy import Connection, bindparam, delete, select
from sqlalchemy.orm import Session

from paperwire.store.db import rowcount
from paperwire.store.dialect import upsert
from paperwire.store.models import Paper, SentenceVectors, utcnow

_CHUNK = 500


def pack(vectors: np.ndarray) -> bytes:
    """Unit float vectors (n, dim) -> int8 bytes (x127, rounded, clipped)."""
    vecs = np.asarray(vectors, dtype=np.float32)
    packed: bytes = np.clip(np.rint(vecs * 127.0), -127, 127).astype(np.int8).tobytes()
    return packed


def unpack(blob: bytes, count: int, dim: int) -> np.ndarray:
    """int8 bytes -> float32 (count, dim) unit vectors (a wrong length raises ValueError)."""
    if count == 0:
        return np.zeros((0, dim), dtype=np.float32)
    if len(blob) != count * dim:
        raise ValueError(f"stored sentence vectors are not {count} x {dim} int8 values")
    vecs = np.frombuffer(bytes(blob), dtype=np.int8).reshape(count, dim).astype(np.float32)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    unit: np.ndarray = vecs / np.maximum(norms, 1e-12)
    return unit


def save_sentence_vectors(
    session: Session,
    model_id: str,
    rows: Sequence[tuple[str, str, np.ndarray]],
    *,
    dim: int,
    now: dt.datetime | None = None,
) -> int:
    """Upsert ``(paper_id, content_hash, vectors (n, dim))`` rows; papers deleted meanwhile
    are skipped. Returns rows written. Call it in the transaction that writes the papers'
    embeddings."""
    if not rows:
        return 0
    now = now or utcnow()
    ids = [r[0] for r in rows]
    existing: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        existing.update(
            session.scalars(select(Paper.id).where(Paper.id.in_(ids[start : start + _CHUNK])))
        )
    values = []
    for pid, chash, vecs in rows:
        if pid not in existing:
            continue
        vecs = np.asarray(vecs, dtype=np.float32).reshape(-1, dim)
        values.append(
            dict(
                paper_id=pid,
                model=model_id,
                dim=dim,
                count=len(vecs),
                vectors=pack(vecs),
                content_hash=chash,
                created_at=now,
            )
        )
    if not values:
        return 0
    stmt = upsert(
        session,
        SentenceVectors,
        ["paper_id"],
        update=("model", "dim", "count", "vectors", "content_hash", "created_at"),
    )
    for start in range(0, len(values), _CHUNK):
        session.execute(stmt, values[start : start + _CHUNK])
    return len(values)


def get_sentence_vectors(
    session: Session | Connection, model_id: str, ids: Sequence[str]
) -> dict[str, np.ndarray]:
    """Decoded sentence vectors of these papers for ``model_id`` (papers without a row for
    that model are left out; a paper with no sentences maps to an empty array)."""
    found: dict[str, np.ndarray] = {}
    ids = list(dict.fromkeys(ids))
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            _SENTENCE_VECTORS, {"model": model_id, "ids": ids[start : start + _CHUNK]}
        )
        for pid, count, dim, blob in rows:
            found[pid] = unpack(blob, count, dim)
    return found


# Built once: hybrid search reads the vectors of ~200 candidates on every query.
_SENTENCE_VECTORS = (
    select(
        SentenceVectors.paper_id,
        SentenceVectors.count,
        SentenceVectors.dim,
        SentenceVectors.vectors,
    )
    .where(SentenceVectors.model == bindparam("model"))
    .where(SentenceVectors.paper_id.in_(bindparam("ids", expanding=True)))
)


def sentence_vector_keys(
    session: Session, model_id: str, ids: Sequence[str]
) -> dict[str, tuple[str, int]]:
    """(content_hash, count) of the stored rows of these papers (for checks and tests)."""
    out: dict[str, tuple[str, int]] = {}
    ids = list(ids)
    for start in range(0, len(ids), _CHUNK):
        for pid, chash, count in session.execute(
            select(SentenceVectors.paper_id, SentenceVectors.content_hash, SentenceVectors.count)
            .where(SentenceVectors.model == model_id)
            .where(SentenceVectors.paper_id.in_(ids[start : start + _CHUNK]))
        ):
            out[pid] = (chash, count)
    return out


def delete_sentence_vectors(session: Session, ids: Sequence[str]) -> int:
    """Drop the rows of these papers (they are embedded again on the next pass)."""
    n = 0
    ids = list(ids)
    for start in range(0, len(ids), _CHUNK):
        n += (
            rowcount(
                session.execute(
                    delete(SentenceVectors).where(
                        SentenceVectors.paper_id.in_(ids[start : start + _CHUNK])
                    )
                )
            )
            or 0
        )
    return n


__all__ = [
    "pack",
    "unpack",
    "save_sentence_vectors",
    "get_sentence_vectors",
    "sentence_vector_keys",
    "delete_sentence_vectors",
]
