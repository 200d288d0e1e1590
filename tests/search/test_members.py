"""``LexicalIndex.members`` answers in one index pass what ``filter_ids`` and ``score_ids``
answer in two (hybrid search asks both of its semantic pool), for indexed papers and for
papers not indexed yet (the delta), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from paperwire.search.filters import merge
from paperwire.search.lexical import LexicalIndex
from paperwire.search.query import parse_query
from paperwire.store.papers import upsert_papers
from tests.factories import make_record

QUERIES = [
    "protein",
    "protein -folding",
    '"neural networks"',
    "graph cat:cs.LG",
    'protein "protein folding"',
    "seq",
    "author:lovelace networks",
    "zzzqqq",
    "networks after:2022",
    "-galaxy",
    "cat:q-bio.*",
]


def _records(suffix: str) -> list:
    return [
        make_record(
            id=f"a{suffix}",
            title="Sequence models for proteins",
            abstract="Protein folding with neural networks.",
        ),
        make_record(id=f"b{suffix}", title="Seq2seq for translation", abstract="Encoders."),
        make_record(id=f"c{suffix}", title="Galaxy rotation curves", abstract="Dark matter."),
        make_record(
            id=f"d{suffix}",
            title="Graph neural networks",
            abstract="Neural networks on graphs.",
            categories=["cs.LG"],
            authors=[{"name": "Ada Lovelace"}],
            published_at=dt.datetime(2021, 6, 1),
        ),
        make_record(
            id=f"e{suffix}",
            title="Protein folding networks",
            abstract="Folding.",
            categories=["q-bio.BM"],
            authors=[{"name": "Grace Hopper"}],
            published_at=dt.datetime(2023, 2, 1),
        ),
    ]


@pytest.mark.parametrize("q", QUERIES)
def test_members_equals_filter_ids_and_score_ids_for_indexed_and_new_papers(settings, db, q):
    with db.session() as session:
        upsert_papers(session, _records("1"))
    index = LexicalIndex(settings, db)
    index.rebuild()
    with db.session() as session:  # after the rebuild: in the delta, scored in Python
        upsert_papers(session, _records("2"))
    try:
        ids = [f"{p}{s}" for s in "12" for p in "abcde"] + ["missing"]
        pq = parse_query(q)
        cons = merge(pq, None)
        passing, matching = index.members(pq, cons, ids)
        assert passing == index.filter_ids(cons, ids, phrases=pq.phrases)
        assert matching == set(index.score_ids(pq, cons, ids))
        assert matching <= passing
    finally:
        index.close()
