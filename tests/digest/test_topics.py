"""The topic matcher over a period's candidates (same parser and analyzers as search)."""

from __future__ import annotations

import datetime as dt

import pytest

from paperwire.digest.topics import Candidate, TopicMatcher, topic_query, validate_topics
from paperwire.errors import BadInput

D = dt.date(2026, 11, 25)
PAPERS = [
    Candidate("p1", "A single-cell atlas of the human lung", "We profile cells by scRNA-seq.",
              ["Ada Lovelace", "Alan Turing"], ["q-bio.GN"], D),
    Candidate("p2", "Single cell sequencing at scale", "Sequencing methods for single cells.",
              ["Grace Hopper"], ["q-bio.QM", "cs.LG"], D),
    Candidate("p3", "Graph neural networks for molecules", "Message passing on graphs.",
              ["Geoffrey E. Hinton"], ["cs.LG"], D),
    Candidate("p4", "Transformers for language", "Attention is what we need for single tasks.",
              ["Ada Lovelace"], ["cs.CL"], dt.date(2026, 11, 20)),
    Candidate("p5", "Seq2seq models revisited", "Encoder decoder networks.", ["Yoshua Bengio"],
              ["cs.CL"], D),
]


@pytest.fixture(scope="module")
def matcher():
    return TopicMatcher.build(PAPERS)


@pytest.mark.parametrize("query,expected", [
    ('"single-cell" cat:q-bio.*', {"p1", "p2"}),
    ("single-cell", {"p1", "p2"}),
    ('"single cell" -sequencing', {"p1"}),
    ("graph neural", {"p3"}),
    ("cat:cs.CL", {"p4", "p5"}),
    ("cat:cs", {"p2", "p3", "p4", "p5"}),
    ('author:"Geoffrey Hinton"', {"p3"}),
    ("author:lovelace cat:cs.CL", {"p4"}),
    ("seq", {"p1", "p2", "p5"}),              # prefix: scRNA-seq, sequencing, Seq2seq
    ("networks after:2026-11-21", {"p3", "p5"}),
    ("quantum", set()),
    ("the", set()),                            # a stop word alone matches nothing
])
def test_matches(matcher, query, expected):
    assert {m.paper_id for m in matcher.match(query)} == expected


def test_exact_words_rank_above_prefix_only_matches(matcher):
    ranked = [m.paper_id for m in matcher.match("sequencing")]
    assert ranked[0] == "p2"


def test_relevance_is_normalised_to_the_best_match(matcher):
    ms = matcher.match("single cell")
    assert ms[0].relevance == 1.0 and all(0 < m.relevance <= 1 for m in ms)
    assert [m.relevance for m in ms] == sorted((m.relevance for m in ms), reverse=True)


def test_results_are_cached_per_query(matcher):
    assert matcher.match("graph") is matcher.match("graph")


@pytest.mark.parametrize("kind,value,query", [
    ("category", "q-bio.*", "cat:q-bio.*"),
    ("category", "cs.CL, cs.LG", "cat:cs.CL cat:cs.LG"),
    ("author", 'Ada "Lovelace"', 'author:"Ada Lovelace"'),
    ("query", "x y", "x y"),
])
def test_topic_kinds_become_queries(kind, value, query):
    assert topic_query(kind, value) == query


def test_validate_topics_normalises_and_deduplicates():
    out = validate_topics([{"kind": "query", "value": "  single\r\ncell  ", "threshold": "0.5"},
                           {"kind": "Query", "value": "single cell"},
                           {"kind": "category", "value": "cs.CL", "threshold": ""},
                           {"kind": "author", "value": ""}])
    assert out == [{"kind": "query", "value": "single cell", "threshold": 0.5},
                   {"kind": "category", "value": "cs.CL", "threshold": None}]


@pytest.mark.parametrize("topic,message", [
    ({"kind": "venue", "value": "x"}, "kind must be one of"),
    ({"kind": "query", "value": "x", "threshold": "1.5"}, "between 0 and 1"),
    ({"kind": "query", "value": "x", "threshold": "high"}, "must be a number"),
    ({"kind": "query", "value": "y" * 301}, "longer than"),
    ({"kind": "query", "value": "after:someday"}, "not a date"),
])
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
