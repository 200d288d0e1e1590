"""The recommender on real arXiv records: a member who saved papers of one fine-grained
category gets the held-out papers of that category first; cold start; "not interested";
reasons."""

from __future__ import annotations

import random

import pytest

from paperwire.recommend.engine import Positive, Signals, best_positive, recommend
from paperwire.recommend.features import PaperText, build_features
from paperwire.recommend.reasons import reason_text
from paperwire.search.embed import paper_text as embed_text
from tests.recommend.fixtures import INTERESTS, paper_text, primary, sample_records
from tests.search.embed_fixtures import encoder  # noqa: F401  (fixture)

RECORDS = sample_records()
BY_ID = {r["id"]: r for r in RECORDS}


@pytest.fixture(scope="module")
def vectors(encoder):  # noqa: F811
    vecs = encoder.encode([embed_text(r["title"], r["abstract"]) for r in RECORDS])
    return dict(zip([r["id"] for r in RECORDS], vecs))


def _split(interest, k, seed=1):
    """k saved papers of the interest; the rest of the sample is split into negatives
    (sampled history) and candidates holding the interest's other papers."""
    rng = random.Random(seed)
    ids = [r["id"] for r in RECORDS]
    mine = [i for i in ids if primary(BY_ID[i]) == interest]
    rng.shuffle(mine)
    saved, held_out = mine[:k], mine[k:]
    others = [i for i in ids if primary(BY_ID[i]) != interest]
    rng.shuffle(others)
    negatives, candidates = others[:80], others[80:] + held_out
    rng.shuffle(candidates)
    return saved, held_out, negatives, candidates


def _sim(X, idx, a, b):
    """The documented nearness: vector cosine + lexical cosine (LEXICAL_WEIGHT is 1)."""
    return float(X.dense[idx[a]] @ X.dense[idx[b]] + X.lexical[idx[a]] @ X.lexical[idx[b]])


def _precision(recs, relevant, k=10):
    return sum(r.paper_id in relevant for r in recs[:k]) / k


@pytest.mark.parametrize("interest", INTERESTS)
@pytest.mark.parametrize("use_vectors", [True, False], ids=["vectors+words", "words only"])
def test_held_out_papers_of_the_members_interest_rank_first(interest, use_vectors, vectors):
    saved, held_out, negatives, candidates = _split(interest, k=10)
    X = build_features([paper_text(r) for r in RECORDS], vectors if use_vectors else {}, dim=384)
    signals = Signals(positives=[Positive(p, "saved", BY_ID[p]["title"]) for p in saved])
    recs = recommend(X, candidates, signals, negatives, limit=10)
    # 30 of the 110 candidates are relevant (27 %): the top ten must be mostly relevant.
    assert _precision(recs, set(held_out)) >= 0.7
    assert all(r.paper_id not in saved for r in recs)
    assert {r.reason.kind for r in recs} == {"saved"}
    assert all(r.reason.paper_id in saved for r in recs)


def test_reason_names_the_nearest_saved_paper(vectors):
    saved, held_out, negatives, candidates = _split("cs.CR", k=4)
    X = build_features([paper_text(r) for r in RECORDS], vectors)
    signals = Signals(positives=[Positive(p, "saved", BY_ID[p]["title"]) for p in saved])
    idx = X.index()
    for rec in recommend(X, candidates, signals, negatives, limit=5):
        sims = {p: _sim(X, idx, p, rec.paper_id) for p in saved}
        assert rec.reason.paper_id == max(sims, key=sims.get)
        assert rec.reason.text == reason_text("saved", BY_ID[rec.reason.paper_id]["title"])


def test_list_items_give_the_list_as_reason(vectors):
    saved, _, negatives, candidates = _split("physics.ao-ph", k=5)
    X = build_features([paper_text(r) for r in RECORDS], vectors)
    signals = Signals(
        positives=[Positive(p, "list", BY_ID[p]["title"], "climate club") for p in saved]
    )
    recs = recommend(X, candidates, signals, negatives, limit=3)
    assert [r.reason.text for r in recs] == ["close to your list “climate club”"] * 3


def test_cold_start_with_one_saved_paper_gives_its_nearest_neighbours(vectors):
    saved, held_out, negatives, candidates = _split("physics.ao-ph", k=1)
    X = build_features([paper_text(r) for r in RECORDS], vectors)
    signals = Signals(positives=[Positive(saved[0], "upvoted", "t")])
    recs = recommend(X, candidates, signals, negatives, limit=5)
    idx = X.index()
    sims = {c: _sim(X, idx, c, saved[0]) for c in candidates}
    assert [r.paper_id for r in recs] == sorted(sims, key=sims.get, reverse=True)[:5]
    assert _precision(recs, set(held_out), k=5) >= 0.6


def test_cold_start_takes_topics_authors_and_neighbours_in_turn(vectors):
    saved, _, negatives, candidates = _split("cs.IR", k=1)
    X = build_features([paper_text(r) for r in RECORDS], vectors)
    topic_ids = [c for c in candidates if primary(BY_ID[c]) == "physics.ao-ph"][:3]
    author_ids = [c for c in candidates if primary(BY_ID[c]) == "cs.CR"][:2]
    signals = Signals(
        positives=[Positive(saved[0], "saved", "my paper")],
        topic_hits={"climate": topic_ids},
        author_hits={"Ada": author_ids},
    )
    recs = recommend(X, candidates, signals, negatives, limit=6)
    kinds = [r.reason.kind for r in recs]
    assert kinds[:3] == ["author", "topic", "saved"]
    assert [r.paper_id for r in recs if r.reason.kind == "topic"] == topic_ids[:2]
    assert recs[1].reason.text == "matches your topic “climate”"
    assert recs[0].reason.text == "by Ada, whom you follow"


def test_no_signals_no_recommendations(vectors):
    X = build_features([paper_text(r) for r in RECORDS], vectors)
    assert recommend(X, [r["id"] for r in RECORDS], Signals(), []) == []


@pytest.mark.parametrize("k", [1, 5])
def test_not_interested_removes_the_paper_and_its_near_duplicates(vectors, encoder, k):  # noqa: F811
    saved, held_out, negatives, candidates = _split("cs.CR", k=k)
    papers = [paper_text(r) for r in RECORDS]
    vecs = dict(vectors)
    target = held_out[0]
    # A near duplicate of the rejected paper: a re-submission under a reworded title.
    dup = "9999.00001"
    dup_title = "Revisited: " + BY_ID[target]["title"].lower()
    vecs[dup] = encoder.encode([embed_text(dup_title, BY_ID[target]["abstract"])])[0]
    assert float(vecs[dup] @ vecs[target]) >= 0.9
    papers.append(PaperText(dup, dup_title, BY_ID[target]["abstract"]))
    X = build_features(papers, vecs)
    positives = [Positive(p, "saved", "t") for p in saved]
    before = recommend(X, candidates + [dup], Signals(positives=positives), negatives, limit=200)
    assert {target, dup} <= {r.paper_id for r in before}
    after = recommend(
        X,
        candidates + [dup],
        Signals(positives=positives, not_interested=[target]),
        negatives,
        limit=200,
    )
    kept = {r.paper_id for r in after}
    assert target not in kept and dup not in kept
    assert len(kept) == len(before) - 2


def test_a_paper_both_saved_and_upvoted_reads_saved():
    best = best_positive(
        [
            Positive("1", "upvoted", "t"),
            Positive("1", "saved", "t"),
            Positive("2", "list", "u", "L"),
        ]
    )
    assert best["1"].kind == "saved" and best["2"].kind == "list"
