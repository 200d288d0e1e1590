"""The semantic ANN index on SQLite and PostgreSQL: meaning-based search, similar papers,
candidate filters, incremental refresh, persistence, automatic rebuilds and sharing one data
directory between processes. Crash recovery (kill -9) is in test_semantic_crash.py."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import delete

from paperwire.errors import NotFound
from paperwire.search import semantic
from paperwire.search.embedding_jobs import embed_pending
from paperwire.search.semantic import SemanticIndex, VectorSpace
from paperwire.store.embeddings import PendingPaper, save_embeddings
from paperwire.store.models import Paper
from paperwire.store.papers import upsert_papers
from tests.factories import make_papers, make_record
from tests.search.embed_fixtures import encoder, topic_records  # noqa: F401  (fixture)


@pytest.fixture
def topics(settings, db, encoder):
    recs = topic_records()
    with db.session() as s:
        upsert_papers(s, recs)
    embed_pending(settings, db, encoder=encoder)
    return {r.id: r for r in recs}


@pytest.fixture
def index(settings, db, encoder, topics):
    ix = SemanticIndex(settings, db, encoder)
    yield ix
    ix.close()


def _ids(hits):
    return [pid for pid, _ in hits]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("translating text between languages with neural networks", "topic-mt"),
        ("how proteins fold", "topic-fold"),
        ("early universe star formation", "topic-galaxy"),
        ("fault-tolerant quantum computing", "topic-quantum"),
        ("flooding and heavy rain under global warming", "topic-climate"),
        ("cell types in lung tissue", "topic-cells"),
    ],
)
def test_search_text_finds_the_paper_that_means_the_query(index, query, expected):
    hits = index.search_text(query, 3)
    assert hits[0][0] == expected


def test_scores_are_cosines_best_first(index):
    hits = index.search_text("protein structure", 6)
    scores = [s for _, s in hits]
    assert len(hits) == 6 and scores == sorted(scores, reverse=True)
    assert all(-1.0 <= s <= 1.0 for s in scores) and scores[0] > 0.3
    assert "cosine" in semantic.SEMANTIC_SCORE


def test_similar_excludes_the_paper_itself(settings, db, encoder, index):
    twin = make_record(
        id="topic-fold-2",
        title="AlphaFold-style protein structure prediction",
        abstract="We predict how a protein folds in 3D from its sequence.",
    )
    with db.session() as s:
        upsert_papers(s, [twin])
    embed_pending(settings, db, encoder=encoder)
    index.refresh()
    hits = index.similar("topic-fold", 3)
    assert "topic-fold" not in _ids(hits)
    assert hits[0][0] == "topic-fold-2"


def test_similar_of_a_paper_without_embedding_is_not_found(db, index):
    (rec,) = make_papers(db, 1)
    with pytest.raises(NotFound, match=rec.id):
        index.similar(rec.id, 5)
    with pytest.raises(NotFound):
        index.similar("no-such-paper", 5)


def test_candidate_ids_restrict_results(index, monkeypatch):
    allowed = ["topic-galaxy", "topic-climate", "topic-cells"]
    exact = index.search_text("protein folding", 2, candidate_ids=allowed)
    assert len(exact) == 2 and set(_ids(exact)) <= set(allowed)
    # Large candidate sets go through the ANN graph with oversampling; same answer here.
    monkeypatch.setattr(semantic, "EXACT_LIMIT", 1)
    ann = index.search_text("protein folding", 2, candidate_ids=allowed)
    assert _ids(ann) == _ids(exact)
    assert np.allclose([s for _, s in ann], [s for _, s in exact], atol=0.02)
    assert index.search_text("protein folding", 2, candidate_ids=[]) == []


def test_refresh_adds_new_embeddings_and_is_a_no_op_when_nothing_is_new(
    settings, db, encoder, index
):
    assert len(index) == 6
    assert index.refresh() == 0
    recs = make_papers(db, 3)
    embed_pending(settings, db, encoder=encoder)
    assert index.refresh() == 3
    assert index.refresh() == 0
    assert len(index) == 9 and {r.id for r in recs} <= index.paper_ids()


def test_reembedded_paper_replaces_its_vector(settings, db, encoder, index, topics):
    old = topics["topic-galaxy"]
    new = dataclasses.replace(
        old,
        title="Coral reef bleaching",
        abstract="Warm oceans bleach coral reefs and kill the algae.",
    )
    with db.session() as s:
        upsert_papers(s, [new])
    embed_pending(settings, db, encoder=encoder)
    index.refresh()
    assert len(index) == 6
    assert index.search_text("coral reefs and ocean warming", 1)[0][0] == "topic-galaxy"
    assert "topic-galaxy" not in _ids(index.search_text("early universe galaxies", 1))


def test_index_is_saved_and_reloaded_without_rebuilding(settings, db, encoder, index, caplog):
    expected = index.search_text("quantum error correction", 3)
    gen = index.generation
    index.close()
    with caplog.at_level(logging.INFO, logger="paperwire.search.semantic"):
        again = SemanticIndex(settings, db, encoder)
        assert again.search_text("quantum error correction", 3) == expected
    assert "rebuil" not in caplog.text
    assert again.generation == gen and again.is_writer
    again.close()


@pytest.mark.parametrize("damage", ["truncate", "garbage-manifest", "delete-file"])
def test_missing_or_corrupt_index_is_rebuilt_with_a_logged_message(
    settings, db, encoder, index, caplog, damage
):
    assert len(index) == 6  # loads (and first builds) the index files
    index.close()
    folder = index.folder
    manifest = json.loads((folder / "manifest.json").read_text())
    main = folder / manifest["index_file"]
    if damage == "truncate":
        with open(main, "r+b") as fh:
            fh.truncate(main.stat().st_size // 2)
    elif damage == "garbage-manifest":
        (folder / "manifest.json").write_text("{not json")
    else:
        main.unlink()
    with caplog.at_level(logging.WARNING, logger="paperwire.search.semantic"):
        again = SemanticIndex(settings, db, encoder)
        hits = again.search_text("how proteins fold", 1)
    assert "rebuilding" in caplog.text
    assert hits[0][0] == "topic-fold" and len(again) == 6
    again.close()


def test_changed_model_id_triggers_a_rebuild(settings, db, index, caplog):
    assert len(index) == 6
    index.close()
    other = VectorSpace(model_id="another-model/onnx-int8/L256", dim=384)
    with caplog.at_level(logging.WARNING, logger="paperwire.search.semantic"):
        again = SemanticIndex(settings, db, other)
        assert len(again) == 0  # no embeddings of that model yet
    assert "embedding model changed" in caplog.text
    again.close()


def test_only_the_lock_holder_writes_the_files(settings, db, encoder, index):
    assert len(index) == 6 and index.is_writer
    reader = SemanticIndex(settings, db, encoder)
    try:
        assert len(reader) == 6 and not reader.is_writer
        before = {p.name: p.stat().st_mtime_ns for p in index.folder.iterdir()}
        recs = make_papers(db, 2)
        embed_pending(settings, db, encoder=encoder)
        assert reader.refresh() == 2
        assert reader.compact() is False
        assert {r.id for r in recs} <= reader.paper_ids()
        assert {p.name: p.stat().st_mtime_ns for p in index.folder.iterdir()} == before
    finally:
        reader.close()


def test_compaction_writes_a_new_generation_that_other_processes_pick_up(
    settings, db, encoder, index
):
    assert index.is_writer or len(index) == 6  # loads first: takes the writer lock
    reader = SemanticIndex(settings, db, encoder)
    try:
        assert len(reader) == 6 and not reader.is_writer
        recs = make_papers(db, 3)
        embed_pending(settings, db, encoder=encoder)
        index.refresh()
        gen = index.generation
        assert index.compact() is True and index.generation == gen + 1
        reader.refresh()
        assert reader.generation == gen + 1
        assert reader.paper_ids() == index.paper_ids() and len(reader) == 9
        probe = recs[0]
        assert reader.similar(probe.id, 1) == index.similar(probe.id, 1)
    finally:
        reader.close()


def test_refresh_parses_the_manifest_only_after_another_process_published(
    settings, db, encoder, index, monkeypatch
):
    assert len(index) == 6  # loaded: the writer
    reader = SemanticIndex(settings, db, encoder)
    try:
        assert len(reader) == 6
        reads = []
        real_read = semantic.files.read_manifest
        monkeypatch.setattr(
            semantic.files, "read_manifest", lambda gen: reads.append(1) or real_read(gen)
        )
        for _ in range(3):
            reader.refresh()
        assert reads == []  # unchanged: not read (it can be megabytes), nothing reloaded
        make_papers(db, 2)
        embed_pending(settings, db, encoder=encoder)
        index.refresh()
        assert index.compact() is True  # publishes a new manifest
        reader.refresh()
        assert reads and reader.generation == index.generation and len(reader) == 8
    finally:
        reader.close()


def test_rebuild_follows_the_database(settings, db, index):
    with db.session() as s:
        s.execute(delete(Paper).where(Paper.id == "topic-cells"))  # cascades to embeddings
    assert index.rebuild() == 5
    assert "topic-cells" not in index.paper_ids()


def test_synthetic_vectors_without_an_encoder(settings, db):
    space = VectorSpace(model_id="synthetic/16", dim=16)
    recs = make_papers(db, 40)
    rng = np.random.default_rng(7)
    vecs = rng.normal(size=(40, 16)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    with db.session() as s:
        save_embeddings(
            s,
            space.model_id,
            [PendingPaper(r.id, r.title, r.abstract, r.content_hash()) for r in recs],
            vecs,
        )
    ix = SemanticIndex(settings, db, space)
    try:
        hits = ix.search(vecs[5], 1)
        assert hits[0][0] == recs[5].id and hits[0][1] > 0.98
        assert np.allclose(ix.vector(recs[5].id), vecs[5], atol=0.02)
    finally:
        ix.close()


def test_papers_changed_makes_papers_findable_in_open_indexes_at_once(settings, db, index):
    from paperwire.search.notify import papers_changed

    assert len(index) == 6 and index.refresh() == 0
    rec = make_record(
        id="fresh-1",
        title="Honeybee navigation by polarized light",
        abstract="Bees find their way home using the sky's polarization.",
    )
    with db.session() as s:
        upsert_papers(s, [rec])
    papers_changed(settings, db, [rec.id])
    # No explicit refresh(): the index was marked dirty by papers_changed.
    assert index.search_text("how do bees navigate", 1)[0][0] == "fresh-1"


def test_surrogate_keys_are_unique_and_kept_across_refresh_and_compaction(
    settings, db, encoder, index
):
    """Each paper has its own integer key (no hashing, so no collision); re-embedding a
    paper keeps its key, new papers get new ones, and compaction keeps them all."""
    assert len(index) == 6

    def keys():
        table, delta = index.table, index.delta
        live = {
            i.decode(): int(k)
            for i, k in zip(table.ids, table.keys)
            if int(k) not in delta.tombstones
        }
        return {**live, **delta.keys}

    before = keys()
    assert sorted(before.values()) == list(range(6))
    recs = make_papers(db, 2)
    embed_pending(settings, db, encoder=encoder)
    with db.session() as s:  # re-embedded: a new vector under the same key
        save_embeddings(
            s,
            index.model_id,
            [PendingPaper("topic-mt", "t", "a", "h")],
            index.vector("topic-fold")[None, :],
        )
    assert index.refresh() == 3
    after = keys()
    assert after["topic-mt"] == before["topic-mt"]
    assert sorted(after[r.id] for r in recs) == [6, 7]
    assert index.compact() and keys() == after
    assert (
        index.search(index.vector("topic-fold"), 2, candidate_ids=["topic-mt"])[0][0] == "topic-mt"
    )


def test_an_index_of_the_previous_format_is_rebuilt_and_its_files_removed(
    settings, db, encoder, topics, caplog
):
    """Upgrading: a data dir written by format 3 (FNV-keyed ``table-<gen>.npz``) is rebuilt
    from the database on first open, transparently, and the old files are cleaned up."""
    from usearch.index import Index

    folder = Path(settings.data_dir) / "index" / "semantic"
    folder.mkdir(parents=True)
    graph = Index(ndim=encoder.dim, metric="cos", dtype="i8")
    vecs = np.eye(2, encoder.dim, dtype=np.float32)
    graph.add(np.array([11, 22], dtype=np.uint64), vecs)
    graph.save(str(folder / "main-4.usearch"))
    with open(folder / "table-4.npz", "wb") as fh:
        np.savez(
            fh,
            keys=np.array([11, 22], dtype=np.uint64),
            ids=np.array([b"x", b"y"]),
            vecs=(vecs * 127).astype(np.int8),
            norms=np.ones(2, dtype=np.float32),
        )
    (folder / "manifest.json").write_text(
        json.dumps(
            {
                "format": 3,
                "model_id": encoder.model_id,
                "dim": encoder.dim,
                "count": 2,
                "generation": 4,
                "index_file": "main-4.usearch",
                "table_file": "table-4.npz",
                "index_bytes": (folder / "main-4.usearch").stat().st_size,
                "table_bytes": (folder / "table-4.npz").stat().st_size,
                "watermark": None,
                "recent": {},
            }
        )
    )
    with caplog.at_level(logging.WARNING, logger="paperwire.search.semantic"):
        ix = SemanticIndex(settings, db, encoder)
        try:
            assert ix.search_text("how proteins fold", 1)[0][0] == "topic-fold"
            assert len(ix) == 6 and ix.generation == 5
        finally:
            ix.close()
    assert "index format changed" in caplog.text
    names = sorted(p.name for p in folder.iterdir())
    assert names == [".writer.lock", "main-5.usearch", "manifest.json", "table-5"]
    assert sorted(p.name for p in (folder / "table-5").iterdir()) == [
        "ids.npy",
        "keys.npy",
        "norms.npy",
        "vecs.npy",
    ]


def test_refresh_finds_rows_committed_late_with_an_older_timestamp(settings, db, index):
    """PostgreSQL commit order != timestamp order: a row stamped before the watermark but
    committed after the last refresh is still picked up (within the overlap window)."""
    from paperwire.store.models import utcnow

    space_vec = index.vector("topic-mt")
    assert len(index) == 6 and index.refresh() == 0
    recs = make_papers(db, 2)
    pending = [PendingPaper(r.id, r.title, r.abstract, r.content_hash()) for r in recs]
    with db.session() as s:  # the "fast" transaction: stamped now, committed first
        save_embeddings(s, index.model_id, pending[:1], space_vec[None, :])
    assert index.refresh() == 1
    late = utcnow() - dt.timedelta(seconds=10)
    with db.session() as s:  # the "slow" one: stamped earlier, committed later
        save_embeddings(s, index.model_id, pending[1:], space_vec[None, :], now=late)
    assert index.refresh() == 1
    assert {r.id for r in recs} <= index.paper_ids()
    assert index.refresh() == 0  # re-read rows inside the window are not applied twice


def _unit(rng, n, dim):
    v = rng.normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _save(db, space, recs, vecs):
    with db.session() as s:
        save_embeddings(
            s,
            space.model_id,
            [PendingPaper(r.id, r.title, r.abstract, r.content_hash()) for r in recs],
            vecs,
        )


def test_every_vector_inserted_into_a_graph_is_found_by_searching_for_it():
    """usearch's parallel add strands a few nodes per 10k (unum-cloud/USearch#735: stored,
    never visited by search); every graph the index builds must have none."""
    rng = np.random.default_rng(3)
    vecs = _unit(rng, 10_000, 32)
    keys = np.arange(len(vecs), dtype=np.uint64)
    graph = semantic.new_graph(32)
    semantic.insert(graph, keys, vecs)
    graph.expansion_search = semantic.EXPANSION_SEARCH
    found = graph.search(vecs, 10).keys
    lost = np.flatnonzero((found != keys[:, None]).all(axis=1))
    assert lost.tolist() == []


def test_ann_search_finds_every_paper_after_rebuild_refresh_and_compaction(settings, db):
    space = VectorSpace(model_id="synthetic-reach/32", dim=32)
    rng = np.random.default_rng(5)
    recs = make_papers(db, 3000)
    vecs = _unit(rng, len(recs), space.dim)
    _save(db, space, recs, vecs)

    def lost(ix):
        return [r.id for r, v in zip(recs, vecs) if r.id not in _ids(ix.search(v, 10))]

    ix = SemanticIndex(settings, db, space, compact_min=10**9)
    try:
        assert len(ix) == 3000 and lost(ix) == []  # the main graph, built by rebuild()
        more = make_papers(db, 600)
        more_vecs = _unit(rng, len(more), space.dim)
        _save(db, space, more, more_vecs)
        # Re-embedding a third of the first papers: remove + re-add of their keys.
        vecs[:1000] = _unit(rng, 1000, space.dim)
        _save(db, space, recs[:1000], vecs[:1000])
        assert ix.refresh() == 1600
        recs, vecs = recs + more, np.concatenate([vecs, more_vecs])
        assert lost(ix) == []  # main minus tombstones + the delta graph
        assert ix.compact() and len(ix) == 3600
        assert lost(ix) == []  # the merged generation, memory-mapped
    finally:
        ix.close()


def test_superseded_entries_never_crowd_live_papers_out_of_the_results(settings, db):
    """Re-embedded papers stay in the main graph as tombstones until compaction; however many
    of them are nearest to the query, the answer is the exact top-k of the live papers."""
    space = VectorSpace(model_id="synthetic-tomb/16", dim=16)
    rng = np.random.default_rng(9)
    axis = np.zeros(space.dim, dtype=np.float32)
    axis[0] = 1.0
    # A cluster around the query: 300 papers within 0.3 rad, then 20 at 0.35, 0.40, ...
    # 1.30 rad (gaps int8 rounding cannot reorder), then 300 papers facing away.
    side = _unit(rng, 320, space.dim)
    side[:, 0] = 0.0
    side /= np.linalg.norm(side, axis=1, keepdims=True)
    angle = np.concatenate([np.linspace(0.02, 0.3, 300), 0.35 + 0.05 * np.arange(20)])
    angle = angle.astype(np.float32)[:, None]
    near = np.cos(angle) * axis + np.sin(angle) * side
    others = _unit(rng, 300, space.dim)
    others[:, 0] = -np.abs(others[:, 0])  # the far side of the query
    vecs = np.concatenate([near, others])
    recs = make_papers(db, len(vecs))
    _save(db, space, recs, vecs)
    ix = SemanticIndex(settings, db, space, compact_min=10**9)
    try:
        assert len(ix) == len(recs)
        # The 300 nearest are re-embedded far from the query: more tombstones among the
        # main graph's nearest hits than the 256 it oversamples by.
        moved = -vecs[:300] + 0.0
        moved[:, 0] = -np.abs(moved[:, 0]) - 1.0
        moved /= np.linalg.norm(moved, axis=1, keepdims=True)
        vecs[:300] = moved
        _save(db, space, recs[:300], moved)
        assert ix.refresh() == 300
        hits = ix.search(axis, 10)
        exact = ix.search(axis, 10, candidate_ids=[r.id for r in recs])
        assert _ids(hits) == _ids(exact) == [r.id for r in recs[300:310]]
    finally:
        ix.close()
