"""Paper embeddings in the ``embeddings`` table: the shared source the ANN indexes derive from.

Storage format: ``vector`` holds the float32 little-endian bytes of the L2-normalized
embedding (``dim`` * 4 bytes; 1.5 KB for a 384-d model). Full precision is kept in the
database so that an index can be rebuilt with any compression without re-embedding; the ANN
index itself stores int8.

Invariants:
- One row per paper (primary key ``paper_id``); writing again upserts, so two processes that
  embed the same paper at once leave one valid row, never a duplicate or an error.
- ``content_hash`` is the paper's ``content_hash`` read in the same snapshot as the text that
  was embedded: if the paper changed meanwhile the hashes differ and it is embedded again.
- ``created_at`` is (re)set on every write, so ``embeddings_since`` is a change feed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import Select, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session

from paperwire.store.dialect import upsert
from paperwire.store.models import Embedding, Paper, SentenceVectors, utcnow

_CHUNK = 500
VECTOR_DTYPE = np.dtype("<f4")

# A SELECT of any columns, kept as its own type through the filters.
_Q = TypeVar("_Q", bound="Select[*tuple[Any, ...]]")


def vector_to_bytes(vec: np.ndarray) -> bytes:
    return np.ascontiguousarray(vec, dtype=VECTOR_DTYPE).tobytes()


def bytes_to_vectors(blobs: Sequence[bytes], dim: int) -> np.ndarray:
    """Stack stored blobs into a float32 (n, dim) array (a wrong length raises ValueError)."""
    if not blobs:
        return np.zeros((0, dim), dtype=np.float32)
    joined = b"".join(bytes(b) for b in blobs)
    if len(joined) != len(blobs) * dim * VECTOR_DTYPE.itemsize:
        raise ValueError(f"stored vectors do not all have dimension {dim}")
    return (
        np.frombuffer(joined, dtype=VECTOR_DTYPE)
        .reshape(len(blobs), dim)
        .astype(np.float32, copy=True)
    )


@dataclass
class PendingPaper:
    id: str
    title: str
    abstract: str
    content_hash: str


@dataclass
class EmbeddingBatch:
    """Rows of ``embeddings_since``, in (created_at, paper_id) order."""

    ids: list[str] = field(default_factory=list)
    created_at: list[dt.datetime] = field(default_factory=list)
    vectors: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def last_key(self) -> tuple[dt.datetime, str] | None:
        return (self.created_at[-1], self.ids[-1]) if self.ids else None


def needing_embedding(query: _Q, model_id: str, *, sentences: bool = False) -> _Q:
    """``query`` (over ``Paper``) restricted to papers whose embedding is missing, of another
    model or older than the paper's content; with ``sentences``, also those whose sentence
    vectors (store/sentences.py) are (the embedder writes both together)."""
    stale = [
        Embedding.paper_id.is_(None),
        Embedding.model != model_id,
        Embedding.content_hash != Paper.content_hash,
    ]
    query = query.outerjoin(Embedding, Embedding.paper_id == Paper.id)
    if sentences:
        query = query.outerjoin(SentenceVectors, SentenceVectors.paper_id == Paper.id)
        stale += [
            SentenceVectors.paper_id.is_(None),
            SentenceVectors.model != model_id,
            SentenceVectors.content_hash != Paper.content_hash,
        ]
    return query.where(or_(*stale))


def count_needing_embedding(
    session: Session,
    model_id: str,
    modified_since: dt.datetime | None = None,
    *,
    sentences: bool = False,
) -> int:
    query = needing_embedding(
        select(func.count()).select_from(Paper), model_id, sentences=sentences
    )
    if modified_since is not None:
        query = query.where(Paper.modified_at >= modified_since)
    return session.scalar(query) or 0


def papers_needing_embedding(
    session: Session,
    model_id: str,
    limit: int,
    *,
    after_id: str = "",
    modified_since: dt.datetime | None = None,
    ids: Sequence[str] | None = None,
    sentences: bool = False,
) -> list[PendingPaper]:
    """Papers with no embedding for ``model_id`` or whose content changed since, in id order
    (with ``sentences``: also papers lacking current sentence vectors).

    ``after_id`` pages through the table (keyset: a full pass costs one index walk);
    ``modified_since`` limits the pass to recently changed papers (the periodic check);
    ``ids`` to the named papers (at most a few hundred: the synchronous path).
    """
    query = (
        needing_embedding(
            select(Paper.id, Paper.title, Paper.abstract, Paper.content_hash),
            model_id,
            sentences=sentences,
        )
        .where(Paper.id > after_id)
        .order_by(Paper.id)
        .limit(limit)
    )
    if modified_since is not None:
        query = query.where(Paper.modified_at >= modified_since)
    if ids is not None:
        query = query.where(Paper.id.in_(list(ids)))
    return [
        PendingPaper(pid, title or "", abstract or "", chash)
        for pid, title, abstract, chash in session.execute(query)
    ]


def save_embeddings(
    session: Session,
    model_id: str,
    papers: Sequence[PendingPaper],
    vectors: np.ndarray,
    *,
    now: dt.datetime | None = None,
) -> int:
    """Upsert one embedding per paper; papers deleted meanwhile are skipped. Returns rows written."""
    if len(papers) != len(vectors):
        raise ValueError("one vector per paper expected")
    if not papers:
        return 0
    now = now or utcnow()
    dim = int(vectors.shape[1])
    existing: set[str] = set()
    ids = [p.id for p in papers]
    for start in range(0, len(ids), _CHUNK):
        existing.update(
            session.scalars(select(Paper.id).where(Paper.id.in_(ids[start : start + _CHUNK])))
        )
    rows = [
        dict(
            paper_id=p.id,
            model=model_id,
            dim=dim,
            vector=vector_to_bytes(v),
            content_hash=p.content_hash,
            created_at=now,
        )
        for p, v in zip(papers, vectors)
        if p.id in existing
    ]
    if not rows:
        return 0
    stmt = upsert(
        session,
        Embedding,
        ["paper_id"],
        update=("model", "dim", "vector", "content_hash", "created_at"),
    )
    for start in range(0, len(rows), _CHUNK):
        session.execute(stmt, rows[start : start + _CHUNK])
    return len(rows)


def embeddings_since(
    session: Session,
    model_id: str,
    after_ts: dt.datetime | None,
    after_id: str,
    limit: int,
    *,
    dim: int | None = None,
) -> EmbeddingBatch:
    """Embeddings of ``model_id`` after the key (after_ts, after_id), in key order.

    The caller keeps a watermark and should start from ``watermark - overlap``: a PostgreSQL
    transaction can commit after a later-stamped one, so rows may appear "in the past".
    """
    query = (
        select(Embedding.paper_id, Embedding.created_at, Embedding.dim, Embedding.vector)
        .where(Embedding.model == model_id)
        .order_by(Embedding.created_at, Embedding.paper_id)
        .limit(limit)
    )
    if after_ts is not None:
        # A range the planner seeks in ix_embeddings_model_created_at (model, created_at,
        # paper_id), then the key as a row value. The former ``a > t OR (a = t AND id > i)``
        # made SQLite scan the whole created_at index from its start when LIMIT is a bound
        # parameter: a second per call at 1M embeddings, on every refresh tick of every
        # process, with the semantic index's lock held (searches waited behind it).
        ts = literal(after_ts, Embedding.created_at.type)
        query = query.where(
            Embedding.created_at >= ts,
            tuple_(Embedding.created_at, Embedding.paper_id)
            > tuple_(ts, literal(after_id, Embedding.paper_id.type)),
        )
    batch = EmbeddingBatch()
    blobs = []
    for pid, created, row_dim, blob in session.execute(query):
        if dim is not None and row_dim != dim:
            continue  # written by a different model under the same id: never expected
        batch.ids.append(pid)
        batch.created_at.append(created)
        blobs.append(blob)
        dim = row_dim
    batch.vectors = bytes_to_vectors(blobs, dim or 0)
    return batch


def get_embeddings(session: Session, model_id: str, ids: Sequence[str]) -> dict[str, np.ndarray]:
    """Stored vectors of these papers for ``model_id`` (papers without one are left out)."""
    found: dict[str, np.ndarray] = {}
    ids = list(dict.fromkeys(ids))
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            select(Embedding.paper_id, Embedding.dim, Embedding.vector)
            .where(Embedding.model == model_id)
            .where(Embedding.paper_id.in_(ids[start : start + _CHUNK]))
        )
        for pid, dim, blob in rows:
            found[pid] = bytes_to_vectors([blob], dim)[0]
    return found


def count_embeddings(session: Session, model_id: str) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(Embedding).where(Embedding.model == model_id)
        )
        or 0
    )


def latest_embedding_key(session: Session, model_id: str) -> tuple[dt.datetime, str] | None:
    row = session.execute(
        select(Embedding.created_at, Embedding.paper_id)
        .where(Embedding.model == model_id)
        .order_by(Embedding.created_at.desc(), Embedding.paper_id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def embedding_keys(session: Session, model_id: str, ids: Sequence[str]) -> dict[str, str]:
    """content_hash of the stored embeddings of these papers (for tests and checks)."""
    out: dict[str, str] = {}
    ids = list(ids)
    for start in range(0, len(ids), _CHUNK):
        for pid, chash in session.execute(
            select(Embedding.paper_id, Embedding.content_hash)
            .where(Embedding.model == model_id)
            .where(Embedding.paper_id.in_(ids[start : start + _CHUNK]))
        ):
            out[pid] = chash
    return out


__all__ = [
    "PendingPaper",
    "EmbeddingBatch",
    "needing_embedding",
    "count_needing_embedding",
    "papers_needing_embedding",
    "save_embeddings",
    "embeddings_since",
    "get_embeddings",
    "count_embeddings",
    "latest_embedding_key",
    "embedding_keys",
    "vector_to_bytes",
    "bytes_to_vectors",
]
