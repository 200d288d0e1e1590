"""Embedding jobs on SQLite and PostgreSQL: resumable batches, the background embedder, the
cross-process lock and the synchronous papers_changed path."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time

import pytest
from sqlalchemy import func, select

from paperwire.search.embed import paper_text
from paperwire.search.embedding_jobs import embed_pending, embedder_lock, start_background_embedder
from paperwire.search.notify import SYNC_EMBED_LIMIT, papers_changed
from paperwire.store.db import Database
from paperwire.store.embeddings import get_embeddings, papers_needing_embedding
from paperwire.store.models import Embedding
from paperwire.store.papers import upsert_papers
from tests.factories import make_papers
from tests.search.embed_fixtures import encoder  # noqa: F401  (fixture)


class CrashingEncoder:
    """The real encoder, failing on its n-th batch: stands for a crash mid-run."""

    def __init__(self, inner, fail_on: int) -> None:
        self.inner, self.fail_on, self.calls = inner, fail_on, 0
        self.model_id, self.dim = inner.model_id, inner.dim

    def encode(self, texts, **kw):
        self.calls += 1
        if self.calls == self.fail_on:
            raise RuntimeError("simulated crash")
        return self.inner.encode(texts, **kw)


def _rows(db):
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Embedding))


def _needing(db, model_id):
    with db.session() as s:
        return papers_needing_embedding(s, model_id, 10_000)


def test_embeds_every_paper_once_and_stores_its_text_vector(settings, db, encoder):
    recs = make_papers(db, 12)
    assert embed_pending(settings, db, batch=5, encoder=encoder) == 12
    assert embed_pending(settings, db, batch=5, encoder=encoder) == 0
    assert _rows(db) == 12
    with db.session() as s:
        stored = get_embeddings(s, encoder.model_id, [recs[0].id])[recs[0].id]
    fresh = encoder.encode_query(paper_text(recs[0].title, recs[0].abstract))
    assert float(stored @ fresh) > 0.97


def test_stats_count_paper_vectors_and_abstract_sentence_vectors(settings, db, encoder):
    from paperwire.search.sentences import split_sentences
    from paperwire.store.stats import collect_stats

    recs = make_papers(db, 3, abstract="We study proteins. They fold fast. Models agree.")
    recs += make_papers(db, 1)
    embed_pending(settings, db, encoder=encoder)
    with db.session() as s:
        stats = collect_stats(s)
    assert stats["embeddings"] == 4
    assert [len(split_sentences(r.abstract)) for r in recs[:3]] == [3, 3, 3]
    assert stats["sentence_vectors"] == sum(len(split_sentences(r.abstract)) for r in recs)


def test_crash_mid_run_keeps_committed_batches_and_rerun_finishes(settings, db, encoder):
    make_papers(db, 10)
    crashing = CrashingEncoder(encoder, fail_on=3)
    with pytest.raises(RuntimeError, match="simulated crash"):
        embed_pending(settings, db, batch=3, encoder=crashing)
    assert _rows(db) == 6  # two committed batches survive; the batch in flight is lost
    assert embed_pending(settings, db, batch=3, encoder=encoder) == 4
    assert _rows(db) == 10 and _needing(db, encoder.model_id) == []


def test_limit_stops_early_and_progress_prints_a_summary(settings, db, encoder, capsys):
    make_papers(db, 7)
    assert embed_pending(settings, db, batch=2, limit=3, encoder=encoder, progress=True) == 3
    err = capsys.readouterr().err
    assert "embedded 3 papers" in err and encoder.model_id in err
    assert len(_needing(db, encoder.model_id)) == 4


def test_changed_paper_is_embedded_again(settings, db, encoder):
    (rec,) = make_papers(db, 1, title="Galaxy formation", abstract="Stars and dark matter.")
    embed_pending(settings, db, encoder=encoder)
    with db.session() as s:
        before = get_embeddings(s, encoder.model_id, [rec.id])[rec.id]
        upsert_papers(
            s,
            [dataclasses.replace(rec, title="Protein folding", abstract="Amino acid chains fold.")],
        )
    assert embed_pending(settings, db, encoder=encoder) == 1
    with db.session() as s:
        after = get_embeddings(s, encoder.model_id, [rec.id])[rec.id]
    assert float(before @ after) < 0.9
    assert _rows(db) == 1


def test_second_embedder_skips_while_the_lock_is_held(settings, db, encoder):
    make_papers(db, 3)
    with embedder_lock(settings, db, wait=False) as got:
        assert got
        other = Database(db.url)
        try:
            assert embed_pending(settings, other, encoder=encoder, wait=False) == 0
        finally:
            other.dispose()
    assert embed_pending(settings, db, encoder=encoder, wait=False) == 3


def test_two_concurrent_embedders_leave_one_row_per_paper(settings, db, encoder):
    make_papers(db, 20)
    results, errors = [], []

    def run():
        own = Database(db.url)
        try:
            results.append(embed_pending(settings, own, batch=4, encoder=encoder))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(results) == 20  # the lock serialises them: the second finds nothing to do
    assert _rows(db) == 20


def test_background_embedder_picks_up_new_papers(settings, db, encoder):
    handle = start_background_embedder(settings, db, interval=0.2, encoder=encoder)
    try:
        recs = make_papers(db, 4)
        deadline = time.monotonic() + 60
        while _needing(db, encoder.model_id) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _needing(db, encoder.model_id) == []
        assert handle.embedded >= len(recs) and handle.alive
    finally:
        handle.stop()
    assert not handle.alive


def test_papers_changed_embeds_small_batches_right_away(settings, db, encoder):
    recs = make_papers(db, 3)
    papers_changed(settings, db, [r.id for r in recs])
    assert _rows(db) == 3


def test_papers_changed_leaves_large_batches_to_the_background(settings, db, encoder):
    recs = make_papers(db, SYNC_EMBED_LIMIT + 1)
    papers_changed(settings, db, [r.id for r in recs])
    assert _rows(db) == 0


def test_papers_changed_never_raises_for_model_trouble(settings, db, caplog, tmp_path):
    recs = make_papers(db, 2)
    broken = dataclasses.replace(settings, embedding_model=str(tmp_path / "missing-model"))
    with caplog.at_level(logging.WARNING):
        papers_changed(broken, db, [r.id for r in recs])
    assert "missing-model" in caplog.text
    assert _rows(db) == 0
