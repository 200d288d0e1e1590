"""Stored key sentences (papers.key_sentence*): written with the vectors, caught up by the
backfill, shown by the rule until then — on SQLite and PostgreSQL, with the real encoder."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from paperwire.search.embedding_jobs import embed_pending
from paperwire.services.api_objects import paper_json
from paperwire.store.checkpoints import get_checkpoint, save_checkpoint
from paperwire.store.embeddings import get_embeddings
from paperwire.store.models import Checkpoint, Paper
from paperwire.store.papers import upsert_papers
from paperwire.store.sentences import get_sentence_vectors
from paperwire.summary import read
from paperwire.summary.keysentence import SCORER_VERSION, pick
from paperwire.summary.refresh import CHECKPOINT, backfill, backfill_if_needed
from tests.factories import make_papers, make_record
from tests.search.embed_fixtures import encoder  # noqa: F401 - one model export per session

MAMBA = (
    "Foundation models are almost universally based on the Transformer architecture. "
    "Many subquadratic-time architectures have been developed to address its "
    "computational inefficiency on long sequences. We propose Mamba, a simplified "
    "end-to-end neural network architecture without attention or even MLP blocks. "
    "Mamba enjoys fast inference and linear scaling in sequence length, and its "
    "performance improves on real data up to million-length sequences."
)


def _paper(db, pid):
    with db.session() as s:
        p = s.get(Paper, pid)
        s.expunge(p)
        return p


def _expected(db, encoder, pid):  # noqa: F811
    with db.session() as s:
        p = s.get(Paper, pid)
        svecs = get_sentence_vectors(s, encoder.model_id, [pid])[pid]
        pvec = get_embeddings(s, encoder.model_id, [pid])[pid]
        return pick(p.abstract, svecs, pvec)


def test_embedding_stores_the_key_sentence_chosen_with_the_vectors(settings, db, encoder):  # noqa: F811
    rec = make_papers(db, 1, title="Mamba: linear-time sequence modeling", abstract=MAMBA)[0]
    assert read.of_paper(_paper(db, rec.id)).method == "rule"  # before: the rule
    embed_pending(settings, db, encoder=encoder)
    p = _paper(db, rec.id)
    expected = _expected(db, encoder, rec.id)
    assert expected.method == "vectors"
    assert (p.key_sentence, p.key_sentence_hash, p.key_sentence_scorer) == (
        expected.text,
        p.content_hash,
        SCORER_VERSION,
    )
    shown = read.of_paper(p)
    assert (shown.text, shown.method) == (expected.text, "vectors")
    assert paper_json(p)["ai_summary"] == expected.text
    assert paper_json(p)["summary_kind"] == "extracted"


def test_a_paper_without_abstract_has_no_key_sentence(settings, db, encoder):  # noqa: F811
    rec = make_papers(db, 1, abstract="")[0]
    assert paper_json(_paper(db, rec.id))["ai_summary"] is None
    embed_pending(settings, db, encoder=encoder)
    p = _paper(db, rec.id)
    assert p.key_sentence is None and p.key_sentence_hash == p.content_hash
    item = paper_json(p)
    assert item["ai_summary"] is None and item["summary_kind"] is None


def test_backfill_catches_up_papers_embedded_before_key_sentences(settings, db, encoder):  # noqa: F811
    recs = make_papers(db, 3)
    embed_pending(settings, db, encoder=encoder)
    with db.session() as s:  # as an older version left them: vectors, no key sentence
        s.execute(
            update(Paper).values(
                key_sentence=None, key_sentence_hash=None, key_sentence_scorer=None
            )
        )
        s.execute(delete(Checkpoint).where(Checkpoint.name == CHECKPOINT))
    assert all(read.of_paper(_paper(db, r.id)).method == "rule" for r in recs)
    assert backfill_if_needed(db, encoder.model_id) == 3
    for r in recs:
        shown = read.of_paper(_paper(db, r.id))
        assert shown.method == "vectors"
        assert shown.text == _expected(db, encoder, r.id).text
    assert backfill(db, encoder.model_id) == 0  # idempotent: nothing stale is left
    assert backfill_if_needed(db, encoder.model_id) == 0
    with db.session() as s:
        assert get_checkpoint(s, CHECKPOINT) == {
            "model": encoder.model_id,
            "scorer": SCORER_VERSION,
        }


def test_another_scorer_version_is_recomputed(settings, db, encoder):  # noqa: F811
    rec = make_papers(db, 1, abstract=MAMBA)[0]
    embed_pending(settings, db, encoder=encoder)
    with db.session() as s:
        s.execute(update(Paper).values(key_sentence="Old choice.", key_sentence_scorer="ks0"))
        save_checkpoint(s, CHECKPOINT, {"model": encoder.model_id, "scorer": "ks0"})
    assert read.of_paper(_paper(db, rec.id)).method == "rule"  # stale scorer: not shown
    embed_pending(settings, db, encoder=encoder)  # the embedder's pass runs the backfill
    p = _paper(db, rec.id)
    assert p.key_sentence_scorer == SCORER_VERSION and p.key_sentence != "Old choice."


def test_changed_abstract_shows_the_rule_until_its_vectors_arrive(settings, db, encoder):  # noqa: F811
    rec = make_papers(db, 1, abstract=MAMBA)[0]
    embed_pending(settings, db, encoder=encoder)
    new_abstract = (
        "Sequence models are costly on long inputs. We introduce a selective "
        "scan that runs in linear time on modern accelerators."
    )
    with db.session() as s:
        upsert_papers(
            s,
            [
                make_record(
                    id=rec.id,
                    version=2,
                    title=rec.title,
                    abstract=new_abstract,
                    published_at=rec.published_at,
                )
            ],
        )
    shown = read.of_paper(_paper(db, rec.id))
    assert shown.method == "rule" and shown.text in new_abstract  # not the old sentence
    embed_pending(settings, db, encoder=encoder)
    shown = read.of_paper(_paper(db, rec.id))
    assert shown.method == "vectors" and shown.text in new_abstract


def test_writing_key_sentences_leaves_modified_at_alone(settings, db, encoder):  # noqa: F811
    rec = make_papers(db, 1, abstract=MAMBA)[0]
    with db.session() as s:
        before = s.scalar(select(Paper.modified_at).where(Paper.id == rec.id))
    embed_pending(settings, db, encoder=encoder)
    with db.session() as s:
        assert s.scalar(select(Paper.modified_at).where(Paper.id == rec.id)) == before


def test_a_backfill_out_of_time_stops_after_a_batch_and_the_next_pass_finishes(
    settings, db, encoder
):  # noqa: F811
    make_papers(db, 5)
    embed_pending(settings, db, encoder=encoder)
    with db.session() as s:
        s.execute(
            update(Paper).values(
                key_sentence=None, key_sentence_hash=None, key_sentence_scorer=None
            )
        )
        s.execute(delete(Checkpoint).where(Checkpoint.name == CHECKPOINT))
    assert backfill_if_needed(db, encoder.model_id, batch=2, budget_seconds=0.0) == 2
    with db.session() as s:
        assert get_checkpoint(s, CHECKPOINT) is None  # not finished: no checkpoint
    assert backfill_if_needed(db, encoder.model_id, batch=2) == 3
    with db.session() as s:
        assert get_checkpoint(s, CHECKPOINT) is not None
