"""store.embeddings on SQLite and PostgreSQL: upserts, what needs embedding, the change feed."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest
from sqlalchemy import delete, func, select

from paperwire.store.embeddings import (
    PendingPaper,
    bytes_to_vectors,
    count_embeddings,
    embeddings_since,
    get_embeddings,
    papers_needing_embedding,
    save_embeddings,
    vector_to_bytes,
)
from paperwire.store.models import Embedding, Paper
from paperwire.store.papers import upsert_papers
from tests.factories import make_papers, make_record

MODEL = "test-model/v1"
DIM = 8


def _vecs(n, seed=0):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _pending(db, **kw):
    with db.session() as s:
        return papers_needing_embedding(s, MODEL, 1000, **kw)


def _save(db, pending, vecs, **kw):
    with db.session() as s:
        return save_embeddings(s, MODEL, pending, vecs, **kw)


def test_vectors_round_trip_as_float32_bytes():
    v = _vecs(3)
    blobs = [vector_to_bytes(x) for x in v]
    assert all(len(b) == DIM * 4 for b in blobs)
    assert np.array_equal(bytes_to_vectors(blobs, DIM), v)
    with pytest.raises(ValueError):
        bytes_to_vectors([b"\x00" * 12], DIM)


def test_new_papers_need_embedding_until_saved(db):
    recs = make_papers(db, 5)
    pending = _pending(db)
    assert sorted(p.id for p in pending) == sorted(r.id for r in recs)
    assert [p.id for p in pending] == sorted(p.id for p in pending)  # id order (keyset)
    assert _save(db, pending[:3], _vecs(3)) == 3
    assert [p.id for p in _pending(db)] == [p.id for p in pending[3:]]


def test_saving_twice_upserts_one_row(db):
    make_papers(db, 2)
    pending = _pending(db)
    _save(db, pending, _vecs(2, seed=1))
    _save(db, pending, _vecs(2, seed=2))
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Embedding)) == 2
        got = get_embeddings(s, MODEL, [p.id for p in pending])
    assert np.allclose(got[pending[0].id], _vecs(2, seed=2)[0])


def test_changed_content_and_other_model_need_embedding_again(db):
    recs = make_papers(db, 3)
    _save(db, _pending(db), _vecs(3))
    assert _pending(db) == []
    changed = dataclasses.replace(recs[1], abstract="A new abstract.")
    with db.session() as s:
        upsert_papers(s, [changed])
    again = _pending(db)
    assert [p.id for p in again] == [recs[1].id] and again[0].abstract == "A new abstract."
    with db.session() as s:
        assert len(papers_needing_embedding(s, "other-model", 100)) == 3


def test_keyset_paging_and_filters(db):
    recs = make_papers(db, 7)
    ids = sorted(r.id for r in recs)
    first = _pending(db)[:3]
    rest = _pending(db, after_id=first[-1].id)
    assert [p.id for p in first + rest] == ids
    assert [p.id for p in _pending(db, ids=[ids[2], ids[5]])] == [ids[2], ids[5]]
    future = dt.datetime(2100, 1, 1)
    assert _pending(db, modified_since=future) == []


def test_papers_deleted_meanwhile_are_skipped(db):
    make_papers(db, 2)
    pending = _pending(db)
    with db.session() as s:
        s.execute(delete(Paper).where(Paper.id == pending[0].id))
    assert _save(db, pending, _vecs(2)) == 1


def test_change_feed_pages_by_timestamp_then_id(db):
    make_papers(db, 6)
    pending = _pending(db)
    t1 = dt.datetime(2026, 1, 1, 12, 0, 0)
    t2 = t1 + dt.timedelta(seconds=1)
    _save(db, pending[:4], _vecs(4), now=t1)  # four rows share one timestamp
    _save(db, pending[4:], _vecs(2, seed=3), now=t2)
    seen, key = [], (None, "")
    while True:
        with db.session() as s:
            batch = embeddings_since(s, MODEL, key[0], key[1], 3)
        if not len(batch):
            break
        assert batch.vectors.shape == (len(batch), DIM)
        seen += list(zip(batch.created_at, batch.ids))
        key = batch.last_key
    assert seen == sorted(seen) and len(seen) == 6
    assert [pid for _, pid in seen] == [p.id for p in pending[:4]] + [p.id for p in pending[4:]]
    with db.session() as s:
        assert count_embeddings(s, MODEL) == 6
        assert len(embeddings_since(s, MODEL, t2, "", 10)) == 2
        assert len(embeddings_since(s, MODEL, seen[-1][0], seen[-1][1], 10)) == 0
        assert len(embeddings_since(s, "other", None, "", 10)) == 0


def test_change_feed_read_seeks_the_index_instead_of_scanning_it(db):
    """The refresh tick's read must not visit the rows before the watermark: with the former
    ``created_at > t OR (created_at = t AND id > i)`` and a bound LIMIT, SQLite scanned the
    whole created_at index (a second per tick at 1M embeddings, with the semantic index's
    lock held)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plan")
    from sqlalchemy import event

    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    make_papers(db, 3)
    _save(db, _pending(db), _vecs(3), now=dt.datetime(2026, 1, 1))
    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with db.session() as s:
            embeddings_since(s, MODEL, dt.datetime(2026, 1, 1), "", 100)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    statement, params = next((st, p) for st, p in statements if "FROM embeddings" in st)
    with db.engine.connect() as conn:
        plan = " | ".join(
            row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
        )
    assert "SEARCH embeddings USING INDEX ix_embeddings_model_created_at" in plan, plan
    assert "model=? AND created_at>" in plan, plan
    assert "SCAN" not in plan and "TEMP B-TREE" not in plan, plan


def test_pending_paper_carries_the_hash_read_with_the_text(db):
    rec = make_record()
    with db.session() as s:
        upsert_papers(s, [rec])
    (p,) = _pending(db)
    assert isinstance(p, PendingPaper) and p.content_hash == rec.content_hash()
