"""The key sentence in digests: text and HTML parts, labelled as extracted, math readable, and
carried from the stored columns (digest/build.py)."""

from __future__ import annotations

import pytest

from paperwire.digest.build import paper_from_row
from paperwire.digest.model import Digest, DigestPaper, MailIdentity
from paperwire.digest.render import render_html, render_text
from paperwire.summary.keysentence import SCORER_VERSION

LABEL = "Key sentence (extracted from the abstract)"
IDENT = MailIdentity(
    site_name="Paperwire",
    base_url="https://papers.example.org",
    mail_from="Paperwire <news@papers.example.org>",
)
ABSTRACT = (
    "Sequence models are costly on long inputs of many tokens. "
    "We show that a selective scan costs $O(n)$ time & memory <always>. "
    "It is evaluated on language tasks of several kinds."
)


def _digest(p: DigestPaper) -> Digest:
    return Digest(
        edition="daily",
        period="2026-11-26",
        period_label="Thursday 26 November 2026",
        recipient_email="reader@example.org",
        trending=(p,),
        unsubscribe_url="https://x/u",
        preferences_url="https://x/p",
    )


def _row(abstract, chash="h1", stored=None, stored_hash=None, scorer=None):
    return (
        "2411.00001",
        "A title",
        abstract,
        [],
        0,
        [],
        None,
        None,
        None,
        3,
        0,
        chash,
        stored,
        stored_hash,
        scorer,
    )


def test_text_and_html_parts_show_the_labelled_key_sentence():
    p = paper_from_row(_row(ABSTRACT), "https://papers.example.org")
    assert p.key_sentence.startswith("We show that a selective scan costs $O(n)$")
    text = render_text(_digest(p), IDENT)
    assert f"{LABEL}: We show that a selective scan costs O(n) time" in " ".join(text.split())
    html = render_html(_digest(p), IDENT)
    assert (
        f"{LABEL}:</span> We show that a selective scan costs O(n) time &amp; memory"
        " &lt;always&gt;." in html
    )


@pytest.mark.parametrize(
    "stored_hash, scorer, expected",
    [
        ("h1", SCORER_VERSION, "The stored sentence."),  # current: shown
        ("h0", SCORER_VERSION, "We show that a selective"),  # another abstract: the rule
        ("h1", "ks0", "We show that a selective"),  # another scorer: the rule
    ],
)
def test_digest_uses_the_stored_key_sentence_only_while_current(stored_hash, scorer, expected):
    p = paper_from_row(
        _row(ABSTRACT, "h1", "The stored sentence.", stored_hash, scorer),
        "https://papers.example.org",
    )
    assert p.key_sentence.startswith(expected)


def test_a_paper_without_abstract_has_no_key_sentence_line():
    p = paper_from_row(_row(""), "https://papers.example.org")
    assert p.key_sentence == ""
    assert LABEL not in render_text(_digest(p), IDENT)
    assert LABEL not in render_html(_digest(p), IDENT)
