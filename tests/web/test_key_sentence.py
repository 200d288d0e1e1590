"""The key sentence on the feed card, paper page, API and Atom feed — SQLite and PostgreSQL.

It is shown labelled as extracted, with math rendered like the abstract's; a paper without an
abstract shows none (and nothing breaks)."""

from __future__ import annotations

import datetime as dt

import feedparser

from paperwire.summary.keysentence import pick
from paperwire.web.periods import today as site_today
from tests.factories import make_feed_papers
from tests.web.readkit import app, client  # noqa: F401

LABEL = "Key sentence (extracted from the abstract)"
ABSTRACT = (
    "Sequence models are costly on long inputs of many tokens. "
    "We propose a selective scan whose cost grows as $O(n \\log n)$ in the length. "
    "It is evaluated on language and audio tasks of various sizes."
)
KEY = "We propose a selective scan whose cost grows as $O(n \\log n)$ in the length."
DAY = dt.date(2025, 3, 4)


def test_the_rule_picks_the_proposal_sentence_of_the_test_abstract():
    assert pick(ABSTRACT).text == KEY


def test_feed_card_shows_the_key_sentence_labelled_with_math(client, db):
    make_feed_papers(db, 1, day=DAY, abstract=ABSTRACT)
    html = client.get(f"/papers?date={DAY}").text
    assert f'<span class="key-sentence-label">{LABEL}:</span>' in html
    assert "We propose a selective scan whose cost grows as" in html
    assert "<math" in html.split('class="key-sentence"', 1)[1].split("</p>", 1)[0]
    assert "$O(n" not in html.split('class="key-sentence"', 1)[1].split("</p>", 1)[0]


def test_paper_page_shows_the_key_sentence_under_the_title(client, db):
    rec = make_feed_papers(db, 1, day=DAY, abstract=ABSTRACT)[0]
    html = client.get(f"/papers/{rec.id}").text
    head = html.split('id="paper-title"', 1)[1].split("</header>", 1)[0]
    assert f"{LABEL}:" in head and "We propose a selective scan" in head and "<math" in head


def test_api_carries_ai_summary_and_its_kind(client, db):
    rec = make_feed_papers(db, 1, day=DAY, abstract=ABSTRACT)[0]
    detail = client.get(f"/api/papers/{rec.id}").json()
    assert detail["ai_summary"] == KEY and detail["summary_kind"] == "extracted"
    [item] = client.get(f"/api/daily_papers?date={DAY}").json()
    assert item["paper"]["ai_summary"] == KEY
    assert item["paper"]["summary_kind"] == "extracted"


def test_a_paper_without_abstract_shows_no_key_sentence(client, db):
    rec = make_feed_papers(db, 1, day=DAY, abstract="")[0]
    html = client.get(f"/papers/{rec.id}").text
    assert LABEL not in html
    assert LABEL not in client.get(f"/papers?date={DAY}").text
    detail = client.get(f"/api/papers/{rec.id}").json()
    assert detail["ai_summary"] is None and detail["summary_kind"] is None


def test_atom_entry_summary_starts_with_the_labelled_key_sentence(client, settings, db):
    make_feed_papers(db, 1, day=site_today(settings), abstract=ABSTRACT)
    feed = feedparser.parse(client.get("/feeds/daily.atom").content)
    assert not feed.bozo
    summary = feed.entries[0].summary
    assert f"{LABEL}: We propose a selective scan whose cost grows as O(n" in summary
    assert "Abstract: Sequence models are costly" in summary
