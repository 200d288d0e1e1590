"""store.sentences on SQLite and PostgreSQL: packing, round trip, upsert, what needs work."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from paperwire.store.embeddings import papers_needing_embedding, save_embeddings
from paperwire.store.papers import upsert_papers
from paperwire.store.sentences import (
    delete_sentence_vectors,
    get_sentence_vectors,
    pack,
    save_sentence_vectors,
    sentence_vector_keys,
    unpack,
)
from tests.factories import make_papers, make_record

MODEL = "test-model/v1"
DIM = 8


def _vecs(n, seed=0):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_pack_is_int8_and_unpack_restores_unit_directions():
    v = _vecs(5)
    blob = pack(v)
    assert len(blob) == 5 * DIM
    back = unpack(blob, 5, DIM)
    assert np.allclose(np.linalg.norm(back, axis=1), 1.0, atol=1e-5)
    assert np.all(np.sum(back * v, axis=1) > 0.999)
    assert unpack(b"", 0, DIM).shape == (0, DIM)
    with pytest.raises(ValueError):
        unpack(blob[:-1], 5, DIM)


def test_round_trip_upsert_and_missing_papers(db):
    a, b = make_papers(db, 2)
    with db.session() as s:
        n = save_sentence_vectors(
            s,
            MODEL,
            [(a.id, "h1", _vecs(3)), (b.id, "h2", _vecs(0)), ("no-such-paper", "h3", _vecs(1))],
            dim=DIM,
        )
    assert n == 2
    with db.session() as s:
        got = get_sentence_vectors(s, MODEL, [a.id, b.id, "no-such-paper"])
        assert get_sentence_vectors(s, "other-model", [a.id]) == {}
    assert set(got) == {a.id, b.id}
    assert got[a.id].shape == (3, DIM) and got[b.id].shape == (0, DIM)
    assert np.all(np.sum(got[a.id] * _vecs(3), axis=1) > 0.999)
    with db.session() as s:
        save_sentence_vectors(s, MODEL, [(a.id, "h9", _vecs(2, seed=1))], dim=DIM)
    with db.session() as s:
        assert sentence_vector_keys(s, MODEL, [a.id]) == {a.id: ("h9", 2)}
        assert delete_sentence_vectors(s, [a.id, b.id]) == 2
        assert get_sentence_vectors(s, MODEL, [a.id, b.id]) == {}


def test_loading_many_papers_reads_them_all(db):
    recs = [make_record(id=f"2401.{i:05d}") for i in range(620)]  # more than one chunk
    with db.session() as s:
        upsert_papers(s, recs)
    with db.session() as s:
        save_sentence_vectors(
            s, MODEL, [(r.id, "h", _vecs(1, seed=i)) for i, r in enumerate(recs)], dim=DIM
        )
    with db.session() as s:
        assert len(get_sentence_vectors(s, MODEL, [r.id for r in recs])) == 620


def test_papers_need_work_until_both_rows_are_current(db):
    (rec,) = make_papers(db, 1)

    def pending():
        with db.session() as s:
            return [p.id for p in papers_needing_embedding(s, MODEL, 10, sentences=True)]

    with db.session() as s:
        (p,) = papers_needing_embedding(s, MODEL, 10)
        save_embeddings(s, MODEL, [p], _vecs(1))
    assert pending() == [rec.id]  # embedding alone is not enough
    with db.session() as s:
        save_sentence_vectors(s, MODEL, [(p.id, p.content_hash, _vecs(2))], dim=DIM)
    assert pending() == []
    with db.session() as s:
        upsert_papers(s, [dataclasses.replace(rec, abstract="A changed abstract.")])
    assert pending() == [rec.id]
    with db.session() as s:
        (q,) = papers_needing_embedding(s, MODEL, 10, sentences=True)
        save_embeddings(s, MODEL, [q], _vecs(1))
    assert pending() == [rec.id]  # stale sentence vectors still count
    with db.session() as s:
        save_sentence_vectors(s, MODEL, [(q.id, q.content_hash, _vecs(1))], dim=DIM)
        assert papers_needing_embedding(s, "other-model", 10, sentences=True)[0].id == rec.id
    assert pending() == []
