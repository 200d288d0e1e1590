"""The lexical index's fast paths answer exactly like the plain queries: phrases filtered
through the ``pairs`` field, and word queries run flat (block-max WAND)."""

from __future__ import annotations

import pytest
import tantivy

from paperwire.search import analyzer
from paperwire.search.filters import Constraints, phrase_in
from paperwire.search.lexical import (
    LexicalIndex,
    body_text,
    compile_query,
    doc_pairs,
    phrase_pairs,
    tantivy_query,
)
from paperwire.search.query import parse_query
from paperwire.store.papers import upsert_papers
from tests.factories import make_papers, make_record

PHRASES = [
    '"graph neural"',
    '"neural graph"',
    '"protein cell sequence"',
    '"state of the art"',
    '"quantum lattice"',
    '"schrodinger equation"',
    '"galaxy photon entropy"',
    '"sparse kernel" cat:cs.LG',
    '"lattice sparse" -photon',
    '"graph of the neural"',
]


def _add(db, *records):
    with db.session() as session:
        upsert_papers(session, records)


@pytest.fixture
def index(settings, db):
    make_papers(db, 300)
    _add(
        db,
        # The phrase only across the end of the title and the start of the abstract.
        make_record(id="e-gap", title="About graph", abstract="Neural nets."),
        make_record(
            id="e-state",
            title="State of the art lattice",
            abstract="Beyond the state of the art in quantum lattice models.",
        ),
        make_record(id="e-art", title="State art", abstract="The state art quantum."),
        make_record(
            id="e-accent",
            title="Schrödinger equation on a quantum lattice",
            abstract="Équation de Schrödinger.",
        ),
        make_record(id="e-long", title="Graph " + "x" * 45 + " neural", abstract="Graph neural."),
        # Every phrase above has at least one match, whatever the random papers hold
        # ("e-all" has photon and graph in it, so the excluding queries need a paper of their own).
        make_record(
            id="e-lattice",
            title="Lattice sparse solvers",
            abstract="A lattice sparse method for neural kernels.",
        ),
        make_record(
            id="e-all",
            categories=["cs.LG"],
            title="Graph of the neural galaxy",
            abstract="Neural graph neural. Protein cell sequence; quantum lattice "
            "sparse kernel, galaxy photon entropy.",
        ),
    )
    idx = LexicalIndex(settings, db)
    idx.rebuild()
    yield idx
    idx.close()


def _brute_force(db, pq) -> set[str]:
    """Papers whose body holds every phrase of the query (the definition of a phrase match)."""
    from sqlalchemy import select

    from paperwire.search.filters import merge, phrase_positions, row_matches
    from paperwire.store.models import Paper

    cons = merge(pq, None)
    out = set()
    with db.session() as session:
        for paper in session.scalars(select(Paper)):
            toks = analyzer.stem_positions(body_text(paper.title, paper.abstract))
            if all(phrase_in(toks, phrase_positions(ph)) for ph in pq.phrases) and row_matches(
                paper, cons
            ):
                out.add(paper.id)
    return out


def test_frequent_stems_are_sampled_at_rebuild(index):
    # Factory words are in most papers: they are "frequent", so their pairs are indexed.
    assert {"graph", "neural", "quantum", "lattic"} <= index.pair_stems


@pytest.mark.parametrize("q", PHRASES)
def test_phrase_matches_are_exactly_the_papers_holding_the_phrase(index, db, q):
    pq = parse_query(q)
    from paperwire.search.filters import merge

    hits = index.search(pq, merge(pq, None), limit=1000).hits
    assert {pid for pid, _ in hits} == _brute_force(db, pq)


@pytest.mark.parametrize("q", PHRASES + ["graph", "quantum lattice", "seq", "neural -graph"])
def test_fast_paths_give_the_same_hits_and_scores_as_plain_queries(index, q):
    """With the pairs filter vs without it, and flat vs nested under a Must: same documents,
    same scores."""
    from paperwire.search.filters import merge

    pq = parse_query(q)
    cq = compile_query(pq, merge(pq, None))
    searcher = index._index.searcher()
    schema = index.schema
    fast = tantivy_query(schema, cq, index.pair_stems)
    plain = tantivy.Query.boolean_query(
        [(tantivy.Occur.Must, tantivy_query(schema, cq, frozenset()))]
    )

    def scored(query):
        res = searcher.search(query, limit=2000, count=False)
        return {searcher.doc(addr)["id"][0]: score for score, addr in res.hits}

    got, want = scored(fast), scored(plain)
    assert got.keys() == want.keys() and want
    for pid, score in want.items():
        assert got[pid] == pytest.approx(score, rel=1e-5)


def test_pairs_skip_stop_word_gaps_and_rare_stems():
    toks = analyzer.stem_positions("the state of the art graph neural networks")
    pairs = doc_pairs(toks, frozenset({"state", "art", "graph", "neural", "network"}))
    assert pairs == {"art_graph", "graph_neural", "neural_network"}
    assert doc_pairs(toks, frozenset({"graph", "network"})) == set()
    assert phrase_pairs([(0, "state"), (3, "art")], frozenset({"state", "art"})) == []


def test_refreshed_papers_are_found_by_phrase_through_the_index(index, db):
    _add(db, make_record(id="n-1", title="Kernel graph neural maps", abstract="Tensor."))
    index.refresh(block=True)
    assert "n-1" not in index._delta()  # folded: answered by tantivy, pairs included
    pq = parse_query('"graph neural"')
    assert "n-1" in {pid for pid, _ in index.search(pq, Constraints(), limit=1000).hits}


@pytest.mark.parametrize(
    "q,limit",
    [
        ("graph after:2025-01-01", 5),  # many pass: answered from the words' top hits
        ("graph neural before:2024-09-30", 20),
        ("quantum after:2026-06-10", 20),  # few pass: falls back to the full query
        ("sparse -graph after:2025-03-01", 150),
        ("seq after:2024-06-01", 10),
    ],
)
def test_date_bounded_words_give_the_top_hits_of_the_full_query(index, q, limit):
    from paperwire.search.filters import merge

    pq = parse_query(q)
    cons = merge(pq, None)
    got = index.search(pq, cons, limit=limit).hits
    cq = compile_query(pq, cons)
    searcher = index._index.searcher()
    full = tantivy.Query.boolean_query(
        [(tantivy.Occur.Must, tantivy_query(index.schema, cq, index.pair_stems))]
    )
    want = [
        (searcher.doc(addr)["id"][0], score)
        for score, addr in searcher.search(full, limit=limit, count=False).hits
    ]
    assert [pid for pid, _ in got] == [pid for pid, _ in want]
    assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-5)
