"""Highlighting (search/snippets.py) against a plain reference: tokenize the text with the
``word`` analyzer, keep the tokens whose stem is a query stem or that start with a query
prefix. The fast paths (ASCII candidates found by one regex, located with str.find; the
matched words without their positions) must give exactly the reference's spans and words."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperwire.search import analyzer
from paperwire.search.snippets import Highlighter, matched_words, snippet_html, title_html


def reference_spans(text: str, stems: set[str], prefixes: tuple[str, ...]) -> list[tuple[int, int]]:
    out = []
    for word, start, end in analyzer.word_spans(text):
        if len(word) >= analyzer.MAX_TOKEN_CHARS:
            continue
        if (prefixes and word.startswith(prefixes)) or analyzer.stem_of_word(word) in stems:
            out.append((start, end))
    return out


def reference_words(text: str, stems: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return list(dict.fromkeys(text[s:e].lower() for s, e in reference_spans(text, stems, prefixes)))


WORDS = [
    "graph",
    "graphs",
    "Graphene",
    "seq2seq",
    "scRNA-seq",
    "SeqPE",
    "networks",
    "the",
    "x",
    "9g",
    "g1",
    "naïve",
    "Ünïcode",
    "learning",
    "learned",
    "LEARN",
    "2024",
    "a-b",
    "générer",
    "state",
    "spaces",
    "space-time",
    "\n",
    "  ",
    ",",
    "(",
    ")",
    "é",
    "ß",
]


@pytest.mark.parametrize(
    "text, stems, prefixes, words",
    [
        ("Graph networks for graphs", {"graph"}, (), ["graph", "graphs"]),
        ("Paragraph graphs", {"graph"}, (), ["graphs"]),  # whole tokens only
        ("seq2seq and scRNA-seq with SeqPE", set(), ("seq",), ["seq2seq", "seq", "seqpe"]),
        ("g1 9g g", {"g"}, (), ["g"]),
        ("learning to learn, LEARNED", {"learn"}, (), ["learning", "learn", "learned"]),
        ("naïve graphs", {"graph"}, (), ["graphs"]),  # a non-ASCII text takes the other path
        ("", {"graph"}, (), []),
        ("graphs", set(), (), []),
    ],
)
def test_matched_words_table(text, stems, prefixes, words):
    hl = Highlighter.for_query(stems, prefixes)
    assert hl.words(text) == words
    assert hl.spans(text) == reference_spans(text, stems, prefixes)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(WORDS), max_size=30).map(" ".join),
    st.sets(
        st.sampled_from(["graph", "seq", "learn", "state", "space", "g", "2024", "x"]), max_size=3
    ),
    st.sets(st.sampled_from(["seq", "gra", "lea", "spa", "gén", "sta"]), max_size=2),
)
def test_spans_and_words_equal_the_reference(text, stems, prefixes):
    prefixes = tuple(sorted(prefixes))
    hl = Highlighter.for_query(stems, prefixes)
    assert hl.spans(text) == reference_spans(text, stems, prefixes)
    assert hl.words(text) == reference_words(text, stems, prefixes)
    # The page's matched words come from both texts, title first, without their spans.
    title = text[: len(text) // 2]
    assert matched_words([title, text], hl) == list(
        dict.fromkeys(
            reference_words(title, stems, prefixes) + reference_words(text, stems, prefixes)
        )
    )


def test_markup_escapes_and_marks_only_matches():
    hl = Highlighter.for_query({"graph"}, ())
    assert title_html("<b>Graph</b> & graphs", hl) == (
        "&lt;b&gt;<mark>Graph</mark>&lt;/b&gt; &amp; <mark>graphs</mark>"
    )
    assert snippet_html("a   graph\n\nhere", hl) == "a <mark>graph</mark> here"


def test_highlighters_are_shared_per_query_and_their_memo_stays_bounded(monkeypatch):
    from paperwire.search import snippets

    hl = Highlighter.for_query({"graph"}, ("gra",))
    assert Highlighter.for_query(["graph"], ["gra"]) is hl
    monkeypatch.setattr(snippets, "MEMO_WORDS", 50)
    for i in range(20):
        hl.words(" ".join(f"g{i}x{j}" for j in range(10)) + " graphs")
        assert len(hl._memo) <= 50 + 11
    assert hl.words("graphs gravity") == ["graphs", "gravity"]
