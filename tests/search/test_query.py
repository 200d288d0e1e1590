"""The query language parser: a table of inputs and what they must parse to."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperwire.search.query import ParsedQuery, parse_query

D = dt.date


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("seq", dict(terms=("seq",))),
        ("graph  neural\tnetworks", dict(terms=("graph", "neural", "networks"))),
        ('"masked language model"', dict(phrases=("masked language model",))),
        ('"single-cell"', dict(phrases=("single-cell",))),
        ('-"scRNA-seq"', dict(excluded_phrases=("scRNA-seq",))),
        ('"seq2seq"', dict(terms=("seq2seq",))),
        ('"single"', dict(terms=("single",))),
        ("-quantum", dict(excluded_terms=("quantum",))),
        ('-"large language"', dict(excluded_phrases=("large language",))),
        ("author:hinton", dict(authors=("hinton",))),
        ('author:"Geoffrey  Hinton"', dict(authors=("Geoffrey Hinton",))),
        ("AU:lecun", dict(authors=("lecun",))),
        ("cat:cs.CL", dict(categories=("cs.cl",))),
        ("cat:q-bio.*", dict(categories=("q-bio.*",))),
        ("cat:cs.CL,cs.LG", dict(categories=("cs.cl", "cs.lg"))),
        ("after:2023", dict(date_from=D(2023, 1, 1))),
        ("after:2023-05", dict(date_from=D(2023, 5, 1))),
        ("after:2023-05-10", dict(date_from=D(2023, 5, 10))),
        ("before:2024", dict(date_to=D(2023, 12, 31))),
        ("before:2024-03", dict(date_to=D(2024, 2, 29))),
        ("before:2024-03-02", dict(date_to=D(2024, 3, 1))),
        ("seq*", dict(terms=("seq",))),
        ("scRNA-seq", dict(terms=("scRNA-seq",))),
        ("ratio 3:1", dict(terms=("ratio", "3:1"))),
        (
            'diffusion "score matching" -gan author:song cat:cs.LG after:2021',
            dict(
                terms=("diffusion",),
                phrases=("score matching",),
                excluded_terms=("gan",),
                authors=("song",),
                categories=("cs.lg",),
                date_from=D(2021, 1, 1),
            ),
        ),
        ("seq seq", dict(terms=("seq",))),
        ("\u201cquoted phrase\u201d", dict(phrases=("quoted phrase",))),
        ("has:code", dict(has=("code",))),
        ("HAS:Code,data has:code", dict(has=("code", "dataset"))),
        (
            "seq has:space has:page has:weights has:video",
            dict(terms=("seq",), has=("demo", "project", "model", "video")),
        ),
    ],
)
def test_parses_valid_queries(raw, expected):
    parsed = parse_query(raw)
    want = ParsedQuery(raw=parsed.raw, **expected)
    assert parsed == want


@pytest.mark.parametrize(
    "raw, terms, phrases, notice_word",
    [
        ('"unbalanced quote', ("unbalanced", "quote"), (), "Unbalanced"),
        ('good "bad', ("good", "bad"), (), "Unbalanced"),
        ("foo:bar", ("foo", "bar"), (), "Unknown field"),
        ('foo:"two words"', ("foo",), ("two words",), "Unknown field"),
        ("after:yesterday", (), (), "not a date"),
        ("before:2024-13", (), (), "not a date"),
        ("after:2023-02-30", (), (), "not a date"),
        ("author:", (), (), "needs a value"),
        ("cat:c$$", (), (), "not a category"),
        ("-author:x", (), (), "not supported"),
        ("after:2025 before:2020", (), (), "empty"),
        ("before:0001-01-01", (), (), "before any date"),
        ("before:0001", (), (), "before any date"),
        ("has:binaries", (), (), "not a kind of link"),
        ("has:", (), (), "has:code"),
        ("-has:code", (), (), "not supported"),
    ],
)
def test_malformed_queries_answer_with_a_notice(raw, terms, phrases, notice_word):
    parsed = parse_query(raw)
    assert parsed.terms == terms
    assert parsed.phrases == phrases
    assert any(notice_word in n for n in parsed.notices), parsed.notices


@pytest.mark.parametrize("raw", ["", "   ", None, "-", '""', "- -"])
def test_empty_queries_are_empty(raw):
    parsed = parse_query(raw)
    assert parsed.is_empty
    assert not parsed.has_text


def test_bad_date_keeps_the_rest_of_the_query():
    parsed = parse_query("protein after:soon folding")
    assert parsed.terms == ("protein", "folding")
    assert parsed.date_from is None


def test_overlong_query_is_cut_with_a_notice():
    parsed = parse_query("word " * 1000)
    assert parsed.terms == ("word",)
    assert any("cut" in n for n in parsed.notices)


@pytest.mark.parametrize(
    "raw",
    [
        '"',
        '-"',
        'a:"',
        "::",
        ":x",
        "x:",
        '"a" "b',
        "-:",
        'a"b"c',
        "cat:",
        "after:",
        "\x00",
        'author:""',
        "*",
        "-*",
    ],
)
def test_never_raises(raw):
    parse_query(raw)


def test_text_joins_terms_and_phrases():
    assert parse_query('a "b c" -d author:x').text == "a b c"


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=12),
            st.builds(
                lambda f, y, m, d: f"{f}:{y:04d}-{m:02d}-{d:02d}",
                st.sampled_from(["after", "before", "since", "until"]),
                st.integers(0, 9999),
                st.integers(0, 13),
                st.integers(0, 32),
            ),
            st.builds(
                lambda f, y: f"{f}:{y:04d}",
                st.sampled_from(["after", "before"]),
                st.integers(0, 9999),
            ),
        ),
        max_size=6,
    ).map(" ".join)
)
def test_any_query_text_parses_without_raising(raw):
    """Dates at the edges of the calendar included (before:0001-01-01 once raised
    OverflowError, a 500 on every caller)."""
    parsed = parse_query(raw)
    if parsed.date_to is not None:
        assert parsed.date_to >= dt.date.min
