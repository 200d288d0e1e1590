"""Newest first in a large index (search/lexical/ranking.py, ``newest_in_windows``): the query
runs over the newest papers first and must give exactly what the full date-ordered search
gives — the same papers in the same order on every page, with the same total — for generated
queries, pages and page sizes, with papers not yet indexed (the delta) and undated papers.
SQLite and PostgreSQL.

The index here is small, so the test makes it behave like a large one: no exact counting
(``EXACT_COUNT_MAX_DOCS``), windows for every word (``NEWEST_WINDOW_MIN_DF``), 30-day first
windows over six years of papers."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import tantivy
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import update

from paperwire.search.filters import merge
from paperwire.search.lexical import LexicalIndex, compile_query, ranking
from paperwire.search.lexical.compiler import tantivy_query
from paperwire.search.query import parse_query
from paperwire.store.models import Paper
from paperwire.store.papers import upsert_papers
from tests.factories import make_record

VOCAB = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa"]
N_INDEXED, N_LATER = 160, 12


def _records(rnd: random.Random, prefix: str, n: int) -> list:
    start = dt.datetime(2019, 1, 1)
    # Few distinct dates: many papers share a date, so ties around the k-th paper are common.
    dates = [start + dt.timedelta(days=rnd.randint(0, 6 * 365)) for _ in range(n // 3)]
    return [
        make_record(
            id=f"{prefix}.{i:05d}",
            title=" ".join(rnd.choices(VOCAB, k=3)),
            abstract=" ".join(rnd.choices(VOCAB, k=12)) + ".",
            categories=[rnd.choice(["cs.CL", "cs.LG", "math.CA"])],
            published_at=rnd.choice(dates),
        )
        for i in range(n)
    ]


@pytest.fixture
def index(settings, db, monkeypatch):
    rnd = random.Random(20261207)
    indexed = _records(rnd, "2401", N_INDEXED)
    with db.session() as session:
        upsert_papers(session, indexed)
        undated = [r.id for r in indexed[::17]]
        session.execute(update(Paper).where(Paper.id.in_(undated)).values(published_at=None))
    lex = LexicalIndex(settings, db)
    lex.rebuild()
    with db.session() as session:  # after the build: answered from the delta
        upsert_papers(session, _records(rnd, "2402", N_LATER))
    monkeypatch.setattr(ranking, "EXACT_COUNT_MAX_DOCS", 0)
    monkeypatch.setattr(ranking, "NEWEST_WINDOW_MIN_DF", 0)
    monkeypatch.setattr(ranking, "NEWEST_WINDOW_DAYS", 30)
    monkeypatch.setattr(ranking, "NEWEST_WINDOW_GROWTH", 2)
    yield lex
    lex.close()


def _newest(lex: LexicalIndex, q: str, limit: int, offset: int, *, windows: bool):
    pq = parse_query(q)
    steps = ranking.NEWEST_WINDOW_STEPS
    ranking.NEWEST_WINDOW_STEPS = steps if windows else 0
    try:
        res = lex.search(pq, merge(pq, None), limit=limit, offset=offset, order="newest")
    finally:
        ranking.NEWEST_WINDOW_STEPS = steps
    return res.hits, res.total, res.exact


_word = st.sampled_from(VOCAB)
_part = st.one_of(
    _word,
    _word,
    _word.map(lambda w: w[:3]),  # a prefix
    st.tuples(_word, _word).map(lambda t: f'"{t[0]} {t[1]}"'),
    _word.map(lambda w: f"-{w}"),
    st.sampled_from(["cat:cs.CL", "cat:cs.*", "after:2021", "before:2023-06"]),
)
QUERIES = st.lists(_part, min_size=1, max_size=3).map(" ".join)


@hsettings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(q=QUERIES, limit=st.sampled_from([1, 4, 20]), offset=st.sampled_from([0, 3, 40, 150]))
def test_newest_first_from_windows_equals_the_full_date_sort(index, q, limit, offset):
    assert _newest(index, q, limit, offset, windows=True) == _newest(
        index, q, limit, offset, windows=False
    )


def test_common_word_newest_page_comes_from_a_window_in_date_order(index, db):
    pq = parse_query("alpha")
    view = index._view(*index._live(), index._delta())
    cq = compile_query(pq, merge(pq, None))
    query = tantivy_query(view.schema, cq, view.pair_stems)
    hits = ranking.newest_in_windows(view, cq, query, 10)
    assert hits is not None and len(hits) == 10  # found without the full search
    published = view.searcher.fast_field_values("published", [addr for _, addr in hits])
    assert published == sorted(published, reverse=True)
    full = view.searcher.search(
        query, limit=10, count=False, order_by_field="published", order=tantivy.Order.Desc
    ).hits
    assert [view.paper_id(a) for _, a in hits] == [view.paper_id(a) for _, a in full]


def test_an_index_without_dated_papers_sorts_in_full(settings, db, monkeypatch):
    with db.session() as session:
        upsert_papers(session, [make_record(title="alpha beta") for _ in range(5)])
        session.execute(update(Paper).values(published_at=None))
    lex = LexicalIndex(settings, db)
    lex.rebuild()
    try:
        monkeypatch.setattr(ranking, "EXACT_COUNT_MAX_DOCS", 0)
        monkeypatch.setattr(ranking, "NEWEST_WINDOW_MIN_DF", 0)
        view = lex._view(*lex._live(), lex._delta())
        assert view.newest_anchor() is None
        hits, total, _ = _newest(lex, "alpha", 3, 0, windows=True)
        assert len(hits) == 3 and total == 5
    finally:
        lex.close()


def test_papers_folded_in_after_the_anchor_was_taken_come_first(index, db):
    before = _newest(index, "alpha", 5, 0, windows=True)  # takes the generation's anchor
    newer = [
        make_record(id=f"2612.{i:05d}", title="alpha", published_at=dt.datetime(2026, 1, 1 + i))
        for i in range(3)
    ]
    with db.session() as session:
        upsert_papers(session, newer)
    index.refresh(block=True)  # folded into the same generation: the anchor is now stale
    hits, total, exact = _newest(index, "alpha", 5, 0, windows=True)
    assert [pid for pid, _ in hits[:3]] == ["2612.00002", "2612.00001", "2612.00000"]
    assert (hits, total, exact) == _newest(index, "alpha", 5, 0, windows=False)
    assert hits[3:] == before[0][:2]
