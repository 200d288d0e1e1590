"""The engine against the reference (tests/search/reference.py) on generated queries, SQLite
and PostgreSQL: words, prefixes, common words, phrases, exclusions, author:/cat:/date/has:
fields (link kinds stored through store/links.py, some added after the index was built);
modes x sorts x page sizes x pages. Seeded and bounded (hypothesis derandomized).

For every generated query:
- lexical mode: the set over all pages is exactly the reference keyword set, in every sort;
- every mode: each returned paper passes the constraints (reference), the keyword set is part
  of the hybrid set, and a hybrid/semantic paper outside it has similarity >= the floor;
- totals are exact, the same on every page, and the pages partition the set (no paper twice,
  none skipped, has_more false exactly on the last page); newest and upvotes orders hold.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import HealthCheck, Phase, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import update

from paperwire.records.links import Link
from paperwire.search.query import parse_query
from paperwire.search.service import SearchService
from paperwire.store.links import put_links
from paperwire.store.models import Paper
from paperwire.store.papers import upsert_papers
from tests.factories import make_record
from tests.search.embed_fixtures import encoder  # noqa: F401
from tests.search.reference import RefPaper, keyword_set, passes_constraints

VOCAB = (
    "seq seq2seq sequence sequencing scrna protein folding state space model models "
    "however how use user users attention kernel galaxy quantum graph network "
    "single cell atlas dyadic learning"
).split()
COMMON = ["how", "use", "what", "the", "of"]
FIRST = ["Ada", "Alan", "Grace", "Emmy", "Kurt"]
LAST = ["Lovelace", "Turing", "Hopper", "Noether", "Godel"]
CATS = ["cs.CL", "cs.LG", "q-bio.GN", "astro-ph.GA", "math.CA"]
KINDS = {
    "code": "https://github.com/o/r{i}",
    "dataset": "https://huggingface.co/datasets/o/d{i}",
    "project": "https://o{i}.github.io/p",
}
N_PAPERS = 60


def _corpus() -> list[RefPaper]:
    rnd = random.Random(20261207)
    papers = []
    for i in range(N_PAPERS):
        words = lambda n: " ".join(rnd.choice(VOCAB + COMMON) for _ in range(n))  # noqa: E731
        authors = [f"{rnd.choice(FIRST)} {rnd.choice(LAST)}" for _ in range(rnd.randint(1, 3))]
        papers.append(
            RefPaper(
                id=f"2501.{i:05d}",
                title=words(5).capitalize(),
                abstract=words(25) + ".",
                authors=authors,
                categories=rnd.sample(CATS, rnd.randint(1, 2)),
                published=dt.date(2023, 1, 1) + dt.timedelta(days=rnd.randint(0, 800)),
                upvotes=rnd.choice([0, 0, 0, 1, 2, 5]),
                hidden=rnd.random() < 0.05,
                links=frozenset(k for k in KINDS if rnd.random() < 0.3),
            )
        )
    return papers


CORPUS = _corpus()


def _load(db) -> None:
    recs = [
        make_record(
            id=p.id,
            title=p.title,
            abstract=p.abstract,
            authors=[{"name": a, "affiliations": []} for a in p.authors],
            categories=p.categories,
            published_at=dt.datetime.combine(p.published, dt.time(12)),
        )
        for p in CORPUS
    ]
    with db.session() as session:
        upsert_papers(session, recs)
        for p in CORPUS:
            if p.upvotes or p.hidden:
                session.execute(
                    update(Paper).where(Paper.id == p.id).values(upvotes=p.upvotes, hidden=p.hidden)
                )


def _add_links(db, papers) -> None:
    with db.session() as session:
        put_links(
            session,
            {
                p.id: [Link(KINDS[k].format(i=p.id), k) for k in sorted(p.links)]
                for p in papers
                if p.links
            },
            "member",
        )


# -- generated queries --------------------------------------------------------------------------
def _prefix(word: str) -> st.SearchStrategy[str]:
    return st.integers(3, len(word)).map(lambda n: word[:n]) if len(word) > 3 else st.just(word)


_word = st.sampled_from(VOCAB).flatmap(_prefix)
_phrase = st.tuples(st.sampled_from(VOCAB), st.sampled_from(VOCAB)).map(
    lambda t: f'"{t[0]} {t[1]}"'
)
_author = st.one_of(
    st.sampled_from(LAST).map(lambda n: f"author:{n.lower()}"),
    st.tuples(st.sampled_from(FIRST), st.sampled_from(LAST)).map(
        lambda t: f'author:"{t[0]} {t[1]}"'
    ),
    # A last name then a first name: only ever inside one author if someone is named so.
    st.tuples(st.sampled_from(LAST), st.sampled_from(FIRST)).map(
        lambda t: f'author:"{t[0]} {t[1]}"'
    ),
)
_cat = st.sampled_from(["cs.CL", "cs", "q-bio.*", "cs.*", "math", "astro-ph.GA"]).map(
    lambda c: f"cat:{c}"
)
_date = st.one_of(
    st.integers(2023, 2025).map(lambda y: f"after:{y}"),
    st.tuples(st.integers(2023, 2025), st.integers(1, 12)).map(
        lambda t: f"before:{t[0]}-{t[1]:02d}"
    ),
)
_has = st.sampled_from(["has:code", "has:dataset", "has:project", "has:code,dataset", "has:data"])
_part = st.one_of(
    _word,
    _word,
    _word,
    st.sampled_from(COMMON),
    _phrase,
    _word.map(lambda w: f"-{w}"),
    _phrase.map(lambda p: f"-{p}"),
    _author,
    _cat,
    _date,
    _has,
)
QUERIES = st.lists(_part, min_size=1, max_size=4).map(" ".join)
PAGING = st.tuples(
    st.sampled_from(["relevance", "newest", "upvotes"]), st.sampled_from([1, 3, 7, 50])
)


def _walk(svc, query, mode, sort, limit):
    ids, totals, offset = [], set(), 0
    while True:
        resp = svc.search(query, mode=mode, sort=sort, limit=limit, offset=offset)
        totals.add((resp.total, resp.total_is_estimate))
        ids += [h.paper_id for h in resp.hits]
        hits = list(resp.hits)
        yield from hits
        if not resp.has_more:
            assert len(ids) == len(set(ids)), "a paper on two pages"
            assert totals == {(len(ids), False)}, (totals, len(ids))
            return
        assert len(resp.hits) == limit
        offset += limit


def _check(svc, query, mode, sort, limit) -> set[str]:
    pq = parse_query(query)
    by_id = {p.id: p for p in CORPUS}
    hits = list(_walk(svc, query, mode, sort, limit))
    for hit in hits:
        assert passes_constraints(by_id[hit.paper_id], pq), (query, hit.paper_id)
    if sort == "newest":
        dates = [by_id[h.paper_id].published for h in hits]
        assert dates == sorted(dates, reverse=True)
    if sort == "upvotes":
        ups = [by_id[h.paper_id].upvotes for h in hits]
        assert ups == sorted(ups, reverse=True)
    return {h.paper_id for h in hits}


@pytest.fixture
def svc(settings, db):
    """Half the papers' links are in the built index, half arrive after it (the delta read
    from the database: has: must hold for both)."""
    _load(db)
    _add_links(db, CORPUS[::2])
    service = SearchService(settings, db, background=False)
    service.lexical.rebuild()
    _add_links(db, CORPUS[1::2])
    yield service
    service.close()


# Seeded, no example database, no shrinking (a failure prints the generated query as is):
# the run time stays bounded.
_HYP = dict(
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@hsettings(max_examples=150, **_HYP)
@given(query=QUERIES, paging=PAGING)
@example(query="has:code", paging=("newest", 7))
@example(query="seq has:code,dataset", paging=("relevance", 3))
@example(query="has:project cat:cs -graph", paging=("upvotes", 1))
# A word and a phrase: a not-yet-indexed paper with the phrase but not the word is no result.
@example(query='kerne "user how"', paging=("newest", 3))
def test_lexical_results_are_exactly_the_reference_keyword_set(svc, query, paging):
    sort, limit = paging
    got = _check(svc, query, "lexical", sort, limit)
    assert got == keyword_set(CORPUS, query), query
    if query == "has:code":  # the explicit example: a real, non-trivial set
        assert 5 < len(got) < N_PAPERS / 2


@pytest.mark.slow
@hsettings(max_examples=40, **_HYP)
@given(query=QUERIES, paging=PAGING)
def test_hybrid_and_semantic_results_obey_the_constraints_and_the_floor(embedded, query, paging):
    svc = embedded
    sort, limit = paging
    keyword = keyword_set(CORPUS, query)
    for mode in ("hybrid", "semantic"):
        got = _check(svc, query, mode, sort, limit)
        full = {h.paper_id: h for h in svc.search(query, mode=mode, limit=200).hits}
        assert set(full) == got, (query, mode, sort)
        if mode == "hybrid":
            assert keyword <= got, (query, keyword - got)
        if not parse_query(query).has_text:
            assert got == keyword  # filters only: listed, nothing to embed
            continue
        for pid in got - keyword if mode == "hybrid" else got:
            hit = full[pid]
            assert "semantic" in hit.matched_by
            assert hit.similarity is not None and hit.similarity >= svc.settings.semantic_floor


@pytest.fixture
def embedded(svc, settings, db, encoder):  # noqa: F811
    from paperwire.search.embedding_jobs import embed_pending

    embed_pending(settings, db)
    return svc
