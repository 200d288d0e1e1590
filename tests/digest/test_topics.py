"""Digest topics: validation, and matching through the site's search function.

A topic finds, among an edition's candidate papers, exactly what its query finds on the
search page (the same ``SearchService.search``, the topic's threshold as the similarity
floor); the old in-memory matcher disagreed with search (issue 10, point 5).
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from paperwire.digest import build
from paperwire.digest.edition import edition_for
from paperwire.digest.topics import topic_query, topic_reason, validate_topics
from paperwire.errors import BadInput
from paperwire.search.service import get_search_service
from tests.factories import make_papers, make_record

SEND_DAY = dt.date(2026, 11, 26)  # Thursday: the daily edition covers the 25th
IN_PERIOD = dt.datetime(2026, 11, 25, 10)
BEFORE = dt.datetime(2026, 10, 1, 10)  # not a candidate (published earlier, not on the feed)


def digest_ids(settings, db, topic, day=SEND_DAY) -> set[str]:
    """The papers a subscriber with this one topic gets in the personal part."""
    with db.session() as s:
        data = build.load_edition(settings, s, edition_for("daily", day), db=db)
    trending, personal = build.choose(data, topics=[topic], max_papers=50, already=set())
    assert not trending  # no feed in these tests: every candidate is a personal candidate
    return {i.paper.id for i in personal}


def search_ids(settings, db, query, *, threshold=None) -> set[str]:
    """Everything the search page finds for ``query`` (all pages), hybrid mode."""
    svc = get_search_service(settings, db)
    out, offset = set(), 0
    while True:
        resp = svc.search(query, mode="hybrid", limit=200, offset=offset, min_similarity=threshold)
        out |= {h.paper_id for h in resp.hits}
        offset += len(resp.hits)
        if not resp.hits or not resp.has_more:
            return out


@pytest.fixture
def point5(db):
    """The papers behind issue 10's point 5, all published in the edition's period."""
    make_papers(
        db,
        1,
        id="2611.00001",
        title="A protein atlas of the human cell",
        abstract="We map proteins across tissues.",
        published_at=IN_PERIOD,
        authors=[{"name": "Ada Lovelace"}, {"name": "Alan Turing"}],
    )
    make_papers(
        db,
        1,
        id="2611.00002",
        title="Protein folding with deep networks",
        abstract="Structures predicted from sequences.",
        published_at=IN_PERIOD,
        authors=[{"name": "Grace Hopper"}],
    )
    make_papers(
        db,
        1,
        id="2611.00003",
        title="An atlas of nearby galaxies",
        abstract="A survey of galaxies and their stars.",
        published_at=IN_PERIOD,
        authors=[{"name": "Ada Lovelace"}],
    )
    make_papers(
        db,
        1,
        id="2611.00004",
        title="A single-cell atlas from scRNA-seq",
        abstract="Cells of the lung profiled one by one.",
        published_at=IN_PERIOD,
        authors=[{"name": "Edsger Dijkstra"}],
    )


@pytest.mark.parametrize(
    "query",
    [
        "protein atlas",
        "atlas -seq",
        'author:"Lovelace Ada"',
        'author:"Ada Lovelace"',
        '"protein atlas"',
    ],
)
def test_point5_topics_find_in_a_digest_what_they_find_on_the_search_page(
    settings, db, point5, query
):
    topic = {"kind": "query", "value": query, "threshold": None}
    assert digest_ids(settings, db, topic) == search_ids(settings, db, query)


def test_point5_examples_have_the_search_page_meaning(settings, db, point5):
    def q(v):
        return digest_ids(settings, db, {"kind": "query", "value": v, "threshold": None})

    assert {"2611.00001", "2611.00002", "2611.00003"} <= q("protein atlas")
    assert "2611.00004" not in q("atlas -seq") and "2611.00003" in q("atlas -seq")
    assert q('author:"Lovelace Ada"') == set()  # a name is not its words in any order
    assert q('author:"Ada Lovelace"') == {"2611.00001", "2611.00003"}


def test_a_topic_never_brings_papers_from_outside_the_period(settings, db, point5):
    make_papers(
        db,
        1,
        id="2610.00009",
        title="Protein atlas revisited",
        abstract="Proteins again.",
        published_at=BEFORE,
    )
    topic = {"kind": "query", "value": "protein atlas", "threshold": None}
    got = digest_ids(settings, db, topic)
    assert "2610.00009" not in got
    assert got == search_ids(settings, db, "protein atlas") - {"2610.00009"}


# --- generated topics: the digest and the search page agree for every one ------------------
VOCAB = [
    "protein",
    "atlas",
    "cell",
    "graph",
    "neural",
    "galaxy",
    "quantum",
    "seq",
    "lung",
    "network",
    "model",
    "spectral",
    "the",
]
CATS = ["q-bio.GN", "cs.LG", "cs.CL", "astro-ph.GA", "quant-ph"]
NAMES = ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Geoffrey Hinton", "Emmy Noether"]


@pytest.fixture
def corpus(settings, db):
    """40 papers from a small vocabulary, 30 in the period and 10 a month earlier, embedded
    (so the meaning part is exercised too). Set up once for all generated examples."""
    from paperwire.search.embedding_jobs import embed_pending
    from paperwire.store.papers import upsert_papers

    rng = random.Random(11)
    recs = []
    for i in range(40):
        title = " ".join(rng.choice(VOCAB) for _ in range(rng.randint(3, 6))).capitalize()
        abstract = " ".join(
            rng.choice(VOCAB + ["of", "and", "with", "scRNA-seq", "seq2seq"])
            for _ in range(rng.randint(8, 20))
        )
        recs.append(
            make_record(
                id=f"2611.{i:05d}",
                title=title,
                abstract=abstract,
                categories=rng.sample(CATS, rng.randint(1, 2)),
                authors=[{"name": n} for n in rng.sample(NAMES, rng.randint(1, 2))],
                published_at=IN_PERIOD if i < 30 else BEFORE,
            )
        )
    with db.session() as s:
        upsert_papers(s, recs)
    embed_pending(settings, db)


word = st.sampled_from(VOCAB)
part = st.one_of(
    word,
    word.map(lambda w: w[:3]),  # a prefix
    st.lists(word, min_size=2, max_size=2).map(lambda ws: '"' + " ".join(ws) + '"'),
    word.map(lambda w: "-" + w),
    st.sampled_from(NAMES).map(lambda n: f'author:"{n}"'),
    st.sampled_from(NAMES).map(lambda n: "author:" + n.split()[-1].lower()),
    st.sampled_from(CATS + ["cs", "q-bio.*"]).map(lambda c: "cat:" + c),
    st.sampled_from(["after:2026-11", "before:2026-11-20", "after:2026"]),
)
topics = st.one_of(
    st.builds(
        lambda parts, th: {"kind": "query", "value": " ".join(parts), "threshold": th},
        st.lists(part, min_size=1, max_size=4),
        st.one_of(st.none(), st.sampled_from([0.0, 0.3, 0.6, 0.9])),
    ),
    st.builds(
        lambda c: {"kind": "category", "value": c, "threshold": None},
        st.sampled_from(CATS + ["cs"]),
    ),
    st.builds(
        lambda n: {"kind": "author", "value": n, "threshold": None},
        st.sampled_from(NAMES + ["Lovelace Ada", "Turing"]),
    ),
)


@pytest.mark.slow
@hsettings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(topic=topics)
def test_digest_and_search_page_agree_for_every_topic(settings, db, corpus, topic):
    try:
        validate_topics([topic])
    except BadInput:
        return  # the subscription form refuses it: never matched
    query = topic_query(topic["kind"], topic["value"])
    expected = search_ids(settings, db, query, threshold=topic["threshold"])
    got = digest_ids(settings, db, topic)
    # The candidates are the 30 papers published in the period.
    assert got == {p for p in expected if int(p.split(".")[1]) < 30}, query


def test_reasons_say_keyword_or_meaning():
    t = {"kind": "query", "value": "state space models", "threshold": None}
    assert topic_reason(t, {"lexical"}) == "your topic “state space models” — by keyword"
    assert topic_reason(t, {"semantic"}) == "your topic “state space models” — by meaning"
    assert topic_reason(t, {"lexical", "semantic"}) == (
        "your topic “state space models” — by keyword and meaning"
    )
    assert (
        topic_reason({"kind": "category", "value": "cs.LG"}, {"lexical"}) == "your category cs.LG"
    )


@pytest.mark.parametrize(
    "kind,value,query",
    [
        ("category", "q-bio.*", "cat:q-bio.*"),
        ("category", "cs.CL, cs.LG", "cat:cs.CL cat:cs.LG"),
        ("author", 'Ada "Lovelace"', 'author:"Ada Lovelace"'),
        ("query", "x y", "x y"),
    ],
)
def test_topic_kinds_become_queries(kind, value, query):
    assert topic_query(kind, value) == query


def test_validate_topics_normalises_and_deduplicates():
    out = validate_topics(
        [
            {"kind": "query", "value": "  single\r\ncell  ", "threshold": "0.5"},
            {"kind": "Query", "value": "single cell"},
            {"kind": "category", "value": "cs.CL", "threshold": ""},
            {"kind": "author", "value": ""},
        ]
    )
    assert out == [
        {"kind": "query", "value": "single cell", "threshold": 0.5},
        {"kind": "category", "value": "cs.CL", "threshold": None},
    ]


@pytest.mark.parametrize(
    "topic,message",
    [
        ({"kind": "venue", "value": "x"}, "kind must be one of"),
        ({"kind": "query", "value": "x", "threshold": "1.5"}, "between 0 and 1"),
        ({"kind": "query", "value": "x", "threshold": "high"}, "must be a number"),
        ({"kind": "query", "value": "y" * 301}, "longer than"),
        ({"kind": "query", "value": "after:someday"}, "not a date"),
    ],
)
def test_validate_topics_explains_bad_topics(topic, message):
    with pytest.raises(BadInput, match=message):
        validate_topics([topic])


@pytest.mark.parametrize("value", ["-sequencing", "after:2024", "   "])
def test_topics_that_would_match_everything_are_refused(value):
    if not value.strip():
        assert validate_topics([{"kind": "query", "value": value}]) == []
        return
    with pytest.raises(BadInput):
        validate_topics([{"kind": "query", "value": value}])


@pytest.fixture
def six_topics(settings, db):
    """Six papers on clearly different subjects, published in the period and embedded."""
    from paperwire.search.embedding_jobs import embed_pending
    from paperwire.store.papers import upsert_papers
    from tests.search.embed_fixtures import topic_records

    with db.session() as s:
        upsert_papers(s, topic_records(published_at=IN_PERIOD))
    embed_pending(settings, db)


@pytest.mark.slow
def test_a_paper_found_by_meaning_alone_says_so(settings, db, six_topics):
    # No paper contains any of these words; the climate paper is about them.
    topic = {"kind": "query", "value": "storms monsoon downpours", "threshold": 0.2}
    with db.session() as s:
        data = build.load_edition(settings, s, edition_for("daily", SEND_DAY), db=db)
    _, personal = build.choose(data, topics=[topic], max_papers=50, already=set())
    reasons = {i.paper.id: i.matched for i in personal}
    assert reasons.get("topic-climate") == ("your topic “storms monsoon downpours” — by meaning",)
    assert personal[0].paper.id == "topic-climate"


@pytest.mark.slow
@pytest.mark.parametrize("value", ["zzzqqq", "qxjvbwk", "blorfquand zhoomisk"])
def test_nonsense_topics_bring_nothing(settings, db, six_topics, value):
    """Below the similarity floor and without a keyword match: no paper, as on the site."""
    topic = {"kind": "query", "value": value, "threshold": None}
    assert digest_ids(settings, db, topic) == set() == search_ids(settings, db, value)


@pytest.mark.slow
def test_prefetching_a_batch_of_topics_embeds_them_in_one_call_and_changes_no_hit(
    settings, db, six_topics
):
    values = ["storms monsoon downpours", "protein folding", "galaxy surveys", "zzzqqq"]
    topics_ = [{"kind": "query", "value": v, "threshold": 0.2} for v in values]

    def edition_topics():
        with db.session() as s:
            return build.load_edition(settings, s, edition_for("daily", SEND_DAY), db=db).topics

    svc = get_search_service(settings, db)
    one_by_one = edition_topics()
    expected = [one_by_one.match(t) for t in topics_]
    svc.forget_query_vectors()
    encoder = svc._encoder
    calls: list[int] = []
    real_encode = encoder.encode
    encoder.encode = lambda texts, **kw: calls.append(len(texts)) or real_encode(texts, **kw)
    try:
        batched = edition_topics()
        batched.prefetch(topics_ + topics_)  # duplicates are embedded once
        got = [batched.match(t) for t in topics_]
    finally:
        del encoder.encode
    assert calls == [len(values)]  # one batch; the searches found every vector cached
    assert [[h.paper_id for h in hits] for hits in got] == [
        [h.paper_id for h in hits] for hits in expected
    ]
    assert [[h.matched_by for h in hits] for hits in got] == [
        [h.matched_by for h in hits] for hits in expected
    ]
    assert any(expected), "the topics find something, so the comparison means something"
