"""The result set of a query (search/query.py, "Meaning of a query"): one regression test per
defect of issue 10 (points 1, 2, 3, 4, 6, 7), on SQLite and PostgreSQL, with the real encoder
for the hybrid cases."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from paperwire.search.service import SearchService
from paperwire.store.models import Paper
from paperwire.store.papers import upsert_papers
from tests.factories import make_papers, make_record
from tests.search.embed_fixtures import encoder  # noqa: F401

OTHER = [
    (
        "Neural machine translation with attention",
        "We translate sentences from English to German with an encoder-decoder network.",
    ),
    (
        "Galaxy formation in cosmological simulations",
        "Hydrodynamic simulations of dark matter halos show how galaxies assembled.",
    ),
    (
        "Error correction for superconducting qubits",
        "Surface codes protect logical qubits in a quantum computer from decoherence.",
    ),
    (
        "Regional climate projections of rainfall extremes",
        "Downscaled climate models project heavier precipitation under warming.",
    ),
    (
        "Graph neural networks for molecules",
        "Message passing over atoms and bonds predicts molecular properties.",
    ),
    (
        "However, the kernel trick still works",
        "Kernel methods revisited: the representer theorem in large scale learning.",
    ),
    (
        "Reinforcement learning for robot control",
        "A policy gradient method learns to walk from camera images.",
    ),
    (
        "Sparse attention for long documents",
        "Attention restricted to local windows scales linearly with length.",
    ),
]


def _library(db) -> list[str]:
    recs = [
        make_record(
            title=t,
            abstract=a,
            published_at=dt.datetime(2024, 1, 1 + i),
            authors=[{"name": "Grace Hopper"}],
        )
        for i, (t, a) in enumerate(OTHER)
    ]
    recs += [
        make_record(
            id="2401.10001",
            title="Dyadic decompositions of Lipschitz spaces",
            abstract="We study dyadic martingales and harmonic analysis.",
            published_at=dt.datetime(2023, 5, 1),
            authors=[{"name": "Ada Lovelace"}, {"name": "Alan Turing"}],
        ),
        make_record(
            id="2401.10002",
            title="Structured state space models",
            abstract="A state space layer for long sequences.",
            published_at=dt.datetime(2024, 6, 1),
        ),
        make_record(
            id="2401.10003",
            title="The space of states of a quantum system",
            abstract="Mixed states form a convex space.",
            published_at=dt.datetime(2024, 7, 1),
        ),
    ]
    with db.session() as session:
        upsert_papers(session, recs)
        session.execute(update(Paper).where(Paper.id == "2401.10003").values(upvotes=5))
    return [r.id for r in recs]


@pytest.fixture
def svc(settings, db):
    service = SearchService(settings, db, background=False)
    yield service
    service.close()


@pytest.fixture
def embedded(settings, db, encoder):  # noqa: F811
    """The library with embeddings (the semantic side answers; encoders are cached per
    process, so the session's exported encoder serves this data dir too)."""
    from paperwire.search.embedding_jobs import embed_pending

    ids = _library(db)
    embed_pending(settings, db)
    return ids


def _ids(resp) -> list[str]:
    return [h.paper_id for h in resp.hits]


def _all_pages(svc, query, *, mode, sort, limit):
    """Walk every page; returns (ids in order, totals seen)."""
    out, totals, offset = [], set(), 0
    while True:
        resp = svc.search(query, mode=mode, sort=sort, limit=limit, offset=offset)
        totals.add((resp.total, resp.total_is_estimate))
        out += _ids(resp)
        if not resp.has_more:
            return out, totals
        offset += limit
        assert offset < 1000, "has_more never became false"


# -- point 1: sorting by newest/upvotes keeps the query ---------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("mode", ["lexical", "hybrid", "semantic"])
def test_newest_and_upvotes_reorder_exactly_the_relevance_set(svc, embedded, mode):
    sets = {}
    for sort in ("relevance", "newest", "upvotes"):
        resp = svc.search("dyadic", mode=mode, sort=sort, limit=50)
        sets[sort] = (set(_ids(resp)), resp.total)
    assert sets["relevance"] == sets["newest"] == sets["upvotes"]
    if mode != "semantic":  # (by meaning alone, one rare word may stay below the floor)
        assert sets["relevance"] == ({"2401.10001"}, 1)


# -- point 2: phrases and other constraints hold in hybrid mode -------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("mode", ["hybrid", "semantic"])
@pytest.mark.parametrize("sort", ["relevance", "newest"])
def test_quoted_phrase_holds_in_every_mode(svc, embedded, mode, sort):
    resp = svc.search('"state space"', mode=mode, sort=sort, limit=50)
    assert _ids(resp) == ["2401.10002"]
    resp = svc.search('author:hopper "state space"', mode=mode, sort=sort, limit=50)
    assert _ids(resp) == []


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["lexical", "hybrid"])
def test_quoted_hyphenated_word_is_a_phrase(svc, settings, db, encoder, mode):  # noqa: F811
    """``"single-cell"`` asks for the two parts next to each other (README's own example);
    it used to be split into two optional words, finding "single levels ... cell signaling"."""
    from paperwire.search.embedding_jobs import embed_pending

    recs = [
        make_record(
            id="2402.20001",
            title="A single-cell atlas of the lung",
            abstract="Single-cell RNA sequencing of lung tissue.",
        ),
        make_record(
            id="2402.20002",
            title="Cell signaling at single levels",
            abstract="Single molecules relay the signal from cell to cell.",
        ),
    ]
    with db.session() as session:
        upsert_papers(session, recs)
    embed_pending(settings, db)
    for query in ('"single-cell"', '"single cell"', '"Single-Cell" lung'):
        assert _ids(svc.search(query, mode=mode, limit=50)) == ["2402.20001"], query
    assert set(_ids(svc.search("single cell", mode="lexical", limit=50))) == {
        "2402.20001",
        "2402.20002",
    }


# -- point 3: nonsense finds nothing and says so ----------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("query", ["zzzqqq", "qxvbnm wplkj", "jjjjj"])
def test_nonsense_returns_nothing_and_says_so(svc, embedded, query):
    for mode in ("hybrid", "semantic", "lexical"):
        resp = svc.search(query, mode=mode)
        assert resp.hits == [] and resp.total == 0 and not resp.has_more
        assert any(n.startswith("Nothing matched") for n in resp.notices)


def test_empty_result_suggests_a_near_spelling(svc, db):
    _library(db)
    resp = svc.search("dyadik martingales cat:math", mode="lexical")
    assert resp.hits == []
    assert resp.suggestions == ["dyadic martingales cat:math"]


@pytest.mark.slow
def test_floor_per_call_admits_or_refuses_papers_by_meaning(svc, embedded):
    with pytest.raises(Exception, match="min_similarity"):
        svc.search("dyadic", min_similarity=1.5)
    loose = svc.search(
        "translating English text into German", mode="semantic", min_similarity=0.0, limit=50
    )
    assert loose.similarity_floor == 0.0 and loose.total == len(embedded)
    sims = [h.similarity for h in loose.hits]
    assert sims == sorted(sims, reverse=True) and all(0 <= s <= 1 for s in sims)
    floor = (sims[0] + sims[1]) / 2  # between the best paper and the rest
    strict = svc.search(
        "translating English text into German", mode="semantic", min_similarity=floor
    )
    assert [h.paper_id for h in strict.hits] == [loose.hits[0].paper_id]
    assert strict.hits[0].matched_by == {"semantic"}


# -- point 4: totals and pages ----------------------------------------------------------------
@pytest.mark.parametrize("limit", [1, 7, 20])
def test_total_is_independent_of_page_and_limit_and_pages_partition(svc, db, limit):
    make_papers(db, 23, title="Prot engineering at scale")  # matched by the prefix only
    make_papers(db, 4, title="Galaxies", abstract="Redshifts of galaxies.")
    for sort in ("relevance", "newest", "upvotes"):
        ids, totals = _all_pages(svc, "prot", mode="lexical", sort=sort, limit=limit)
        assert totals == {(23, False)}
        assert len(ids) == len(set(ids)) == 23


@pytest.mark.slow
def test_hybrid_pages_partition_the_set(svc, embedded, db):
    make_papers(db, 30, title="Attention heads in transformers")
    from paperwire.search.embedding_jobs import embed_pending

    embed_pending(svc.settings, db)
    for sort in ("relevance", "newest", "upvotes"):
        full = svc.search("attention", mode="hybrid", sort=sort, limit=200)
        for limit in (4, 9):
            ids, totals = _all_pages(svc, "attention", mode="hybrid", sort=sort, limit=limit)
            assert totals == {(full.total, False)}
            assert ids == _ids(full) and len(ids) == full.total


# -- point 6: an author phrase never spans two authors ----------------------------------------
@pytest.mark.parametrize("indexed", [False, True])
def test_author_phrase_never_spans_two_authors(svc, db, indexed):
    _library(db)
    if indexed:
        svc.lexical.rebuild()  # the index answers, not the not-yet-indexed delta
    assert _ids(svc.search('author:"Lovelace Alan"', mode="lexical")) == []
    assert _ids(svc.search('author:"Ada Lovelace"', mode="lexical")) == ["2401.10001"]
    assert _ids(svc.search('author:"Alan Turing" dyadic', mode="lexical")) == ["2401.10001"]


# -- point 7: common words of a sentence are whole words --------------------------------------
def test_common_words_of_a_sentence_are_not_prefixes(svc, db):
    _library(db)
    resp = svc.search("how kernel", mode="lexical")
    hit = next(
        h for h in resp.hits if h.title_html.startswith("However") or "However" in h.paper.title
    )
    assert "<mark>However</mark>" not in hit.title_html
    assert "however" not in hit.highlights
    # Only the kernel paper: "how" alone matched "However" (the galaxy paper has "how" itself).
    assert set(_ids(svc.search("how kernel", mode="lexical"))) == {
        hit.paper_id,
        *[h.paper_id for h in svc.search('"show how"', mode="lexical").hits],
    }
    # Alone, a word is still a prefix (the seq rule).
    assert hit.paper_id in _ids(svc.search("how", mode="lexical"))
