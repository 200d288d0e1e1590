"""Sentence vectors: splitting abstracts, the embedder writing them, hybrid/semantic ranking
using them (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from sqlalchemy import func, select

from paperwire.search.sentences import (
    MAX_WORDS,
    max_sentence_cosine,
    rescore,
    sentence_texts,
    split_sentences,
)
from paperwire.store.models import Embedding, SentenceVectors
from paperwire.store.papers import upsert_papers
from paperwire.store.sentences import get_sentence_vectors, sentence_vector_keys
from tests.factories import make_papers, make_record
from tests.search.embed_fixtures import encoder  # noqa: F401  (fixture)


@pytest.mark.parametrize(
    "abstract, expected",
    [
        ("", []),
        (None, []),
        ("One sentence without a stop", ["One sentence without a stop"]),
        ("First one. Second one.", ["First one.", "Second one."]),
        ("Is it? Yes! It is.", ["Is it?", "Yes!", "It is."]),
        ("Tools, e.g. BLAST, help. Next.", ["Tools, e.g. BLAST, help.", "Next."]),
        ("As in i.e. Some cases. Done.", ["As in i.e. Some cases.", "Done."]),
        ("Smith et al. Showed this. Then more.", ["Smith et al. Showed this.", "Then more."]),
        (
            "See Fig. 2 for details. Also Eq. 3 holds.",
            ["See Fig. 2 for details.", "Also Eq. 3 holds."],
        ),
        ("Gain was 3.5 fold. Loss was 0.2.", ["Gain was 3.5 fold.", "Loss was 0.2."]),
        ("We set $x = 1. Y$ and go. Next.", ["We set $x = 1. Y$ and go.", "Next."]),
        (
            "Authors J. Smith and K. Lee agree. Fine.",
            ["Authors J. Smith and K. Lee agree.", "Fine."],
        ),
        ("It ends (in brackets.) Then a new one.", ["It ends (in brackets.)", "Then a new one."]),
        ("lower case. after a stop stays", ["lower case. after a stop stays"]),
        ("  Spread \n over\tlines.   Second\n one. ", ["Spread over lines.", "Second one."]),
        ("We used 12 mice. 40 of them lived.", ["We used 12 mice.", "40 of them lived."]),
    ],
)
def test_split_sentences(abstract, expected):
    assert split_sentences(abstract) == expected


def test_long_sentences_are_cut_into_word_capped_pieces():
    words = [f"w{i}" for i in range(2 * MAX_WORDS + 5)]
    pieces = split_sentences(" ".join(words) + ".")
    assert [len(p.split()) for p in pieces] == [MAX_WORDS, MAX_WORDS, 5]
    assert " ".join(pieces) == " ".join(words) + "."


def test_sentences_per_paper_are_capped():
    text = " ".join(f"Sentence number {i}." for i in range(40))
    assert len(split_sentences(text)) == 24
    assert split_sentences(text, max_sentences=5)[-1] == "Sentence number 4."


def test_sentence_texts_put_the_title_in_front():
    assert sentence_texts("A title", "One. Two.") == ["A title. One.", "A title. Two."]
    assert sentence_texts("Why?", "One.") == ["Why? One."]
    assert sentence_texts("A title", "") == []


def test_rescore_mixes_best_sentence_and_keeps_papers_without_sentences():
    cands = [("a", 0.5), ("b", 0.4), ("c", 0.3)]
    out = rescore(cands, {"a": 0.5, "b": 0.9}, 1.0)
    assert out == [("b", pytest.approx(0.65)), ("a", 0.5), ("c", 0.3)]
    assert rescore(cands, {"b": 0.9}, 0.0) == cands


def test_max_sentence_cosine():
    q = np.array([1.0, 0.0], dtype=np.float32)
    assert max_sentence_cosine(q, np.array([[0.0, 1.0], [0.6, 0.8]])) == pytest.approx(0.6)
    assert max_sentence_cosine(q, np.zeros((0, 2))) is None


# ---- the embedder -------------------------------------------------------------------------


def test_embedder_writes_sentence_vectors_with_the_paper_embedding(settings, db, encoder):
    from paperwire.search.embedding_jobs import embed_pending

    rec = make_record(title="Protein folding", abstract="Proteins fold fast. Water helps.")
    empty = make_record(title="Title only", abstract="")
    with db.session() as s:
        upsert_papers(s, [rec, empty])
    assert embed_pending(settings, db, encoder=encoder) == 2
    with db.session() as s:
        stored = get_sentence_vectors(s, encoder.model_id, [rec.id, empty.id])
    assert stored[rec.id].shape == (2, encoder.dim)
    assert stored[empty.id].shape == (0, encoder.dim)
    fresh = encoder.encode(
        ["Protein folding. Proteins fold fast.", "Protein folding. Water helps."]
    )
    assert np.all(np.sum(stored[rec.id] * fresh, axis=1) > 0.98)  # int8 round trip
    assert embed_pending(settings, db, encoder=encoder) == 0


def test_changed_abstract_replaces_sentence_vectors(settings, db, encoder):
    from paperwire.search.embedding_jobs import embed_pending

    rec = make_record(abstract="One sentence. Two sentences.")
    with db.session() as s:
        upsert_papers(s, [rec])
    embed_pending(settings, db, encoder=encoder)
    changed = dataclasses.replace(rec, abstract="Only one now, and it is different.")
    with db.session() as s:
        upsert_papers(s, [changed])
    assert embed_pending(settings, db, encoder=encoder) == 1
    with db.session() as s:
        ((chash, count),) = sentence_vector_keys(s, encoder.model_id, [rec.id]).values()
        emb_hash = s.scalar(select(Embedding.content_hash).where(Embedding.paper_id == rec.id))
    assert count == 1 and chash == emb_hash


def test_papers_embedded_before_sentence_vectors_existed_get_them(settings, db, encoder):
    from paperwire.search.embedding_jobs import embed_pending
    from paperwire.store.sentences import delete_sentence_vectors

    recs = make_papers(db, 3)
    embed_pending(settings, db, encoder=encoder)
    with db.session() as s:
        assert delete_sentence_vectors(s, [r.id for r in recs[:2]]) == 2
    assert embed_pending(settings, db, encoder=encoder) == 2
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(SentenceVectors)) == 3


def test_crash_mid_batch_leaves_no_embedding_without_sentence_vectors(settings, db, encoder):
    from paperwire.search.embedding_jobs import embed_pending
    from tests.search.test_embedding_jobs import CrashingEncoder

    make_papers(db, 7)
    with pytest.raises(RuntimeError):
        embed_pending(settings, db, batch=3, encoder=CrashingEncoder(encoder, fail_on=2))
    with db.session() as s:
        emb = set(s.scalars(select(Embedding.paper_id)))
        sent = set(s.scalars(select(SentenceVectors.paper_id)))
    assert len(emb) == 3 and emb == sent


# ---- ranking ------------------------------------------------------------------------------

# A paper about something else with ONE sentence answering the query, and a paper about the
# query's general area that answers nothing; no query word occurs in either, so the
# semantic side decides even in hybrid mode.
NEEDLE = (
    "Costs and revenues of urban transport",
    "We review fares, subsidies and operating costs of bus and tram networks in forty "
    "cities. Ridership grew where fares were integrated across operators. Parking "
    "revenue and congestion charges funded new lines. Car accidents were deadliest for "
    "adolescent drivers after dark. Overall, integrated ticketing improved cost "
    "recovery.",
)
# Clearly closer to the query than NEEDLE as a whole (paper cosine ~0.46 vs ~0.24 with every
# backend), but no sentence of it says what the query asks (best sentence ~0.46 vs ~0.64).
VAGUE = (
    "Road safety of young drivers",
    "We review traffic injury statistics and licensing rules for young motorists across "
    "countries. Enforcement, vehicle design and driver education all matter for safer "
    "roads. We discuss open questions for policy.",
)
QUERY = "automobile crashes lethal for teenagers at night"


@pytest.fixture
def ranked(settings, db, encoder):
    from paperwire.search.embedding_jobs import embed_pending
    from paperwire.search.service import SearchService
    from tests.search.embed_fixtures import topic_records

    recs = [
        make_record(id="needle", title=NEEDLE[0], abstract=NEEDLE[1]),
        make_record(id="vague", title=VAGUE[0], abstract=VAGUE[1]),
        *topic_records(),
    ]
    with db.session() as s:
        upsert_papers(s, recs)
    embed_pending(settings, db)
    services = []

    def rank(mode, weight):
        svc = SearchService(
            dataclasses.replace(settings, sentence_weight=weight), db, background=False
        )
        services.append(svc)
        # A ranking test: every paper takes part (no similarity floor; the needle's paper
        # cosine alone, ~0.24, is under the default floor that keeps nonsense out).
        ids = [h.paper_id for h in svc.search(QUERY, mode=mode, limit=20, min_similarity=0.0).hits]
        return ids.index("needle"), ids.index("vague")

    yield rank
    for svc in services:
        svc.close()


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["hybrid", "semantic"])
def test_one_matching_sentence_beats_a_vaguely_similar_abstract(ranked, mode, db, settings):
    from paperwire.search.service import SearchService

    svc = SearchService(settings, db, background=False)
    try:
        assert svc.search(QUERY, mode="lexical").hits == []  # the semantic side decides
    finally:
        svc.close()
    needle, vague = ranked(mode, 0.0)
    assert needle > vague  # paper vectors alone prefer the vague abstract
    needle, vague = ranked(mode, settings.sentence_weight)
    assert needle < vague
