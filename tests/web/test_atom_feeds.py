"""Atom feeds, checked with feedparser (no bozo, ids, links, updated) — SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import feedparser
import pytest

from paperwire.web.periods import today as site_today
from tests.factories import make_feed_papers, make_papers
from tests.search.embed_fixtures import encoder  # noqa: F401
from tests.web.readkit import app, client  # noqa: F401


def _parse(resp):
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(resp.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.id and feed.feed.title and feed.feed.updated
    assert any(link.rel == "self" for link in feed.feed.links)
    # ...and the HTML page the feed follows (a feed reader's "open website").
    assert [
        link.href
        for link in feed.feed.links
        if link.rel == "alternate" and link.type == "text/html"
    ], feed.feed.links
    for entry in feed.entries:
        assert entry.id and entry.title and entry.updated and entry.link
        assert entry.link.startswith("http://127.0.0.1:8000/papers/")
    return feed


def test_daily_feed_lists_the_days_papers(client, settings, db):
    today = site_today(settings)
    recs = make_feed_papers(
        db, 3, day=today, upvotes=[1, 5, 3], title="Math $x^2$ & <tags> in a “title”"
    )
    feed = _parse(client.get("/feeds/daily.atom"))
    assert [e.link.rsplit("/", 1)[1] for e in feed.entries] == [recs[1].id, recs[2].id, recs[0].id]
    assert feed.entries[0].title == "Math x^2 & <tags> in a “title”"
    assert "5 upvotes" in feed.entries[0].summary
    assert len({e.id for e in feed.entries}) == 3


def test_trending_feed_and_old_style_ids(client, settings, db):
    make_papers(db, 1, id="hep-th/9901001")
    from paperwire.store.feed import add_feed_entry

    with db.session() as s:
        add_feed_entry(s, "hep-th/9901001", site_today(settings))
    feed = _parse(client.get("/feeds/trending.atom"))
    assert [e.link for e in feed.entries] == ["http://127.0.0.1:8000/papers/hep-th/9901001"]
    assert feed.entries[0].tags[0].term


def test_empty_feeds_are_still_valid(client):
    assert _parse(client.get("/feeds/daily.atom")).entries == []
    assert _parse(client.get("/feeds/trending.atom")).entries == []


def test_search_feed(client, db):
    make_papers(
        db,
        1,
        id="2401.00001",
        title="Seq2seq models",
        abstract="sequence learning",
        published_at=dt.datetime(2024, 1, 2),
    )
    make_papers(db, 1, id="2401.00002", title="Other topic", abstract="galaxies")
    feed = _parse(client.get("/feeds/search.atom", params={"q": "seq", "mode": "lexical"}))
    assert [e.link.rsplit("/", 1)[1] for e in feed.entries] == ["2401.00001"]
    assert "seq" in feed.feed.title


@pytest.mark.parametrize("query,status", [("", 422), ("?q=", 400), ("?q=%00", 400)])
def test_search_feed_bad_input_is_json_error(client, query, status):
    resp = client.get(f"/feeds/search.atom{query}")
    assert resp.status_code == status
    assert set(resp.json()) == {"error", "detail"}


@pytest.mark.slow
def test_search_feed_is_the_search_result_set_newest_first(client, settings, db, encoder):  # noqa: F811
    """Hybrid (the default): the feed is exactly the search page's set, newest first; a
    query nothing matches gives an empty feed (it used to list the whole library)."""
    from paperwire.search.embedding_jobs import embed_pending

    make_papers(
        db,
        1,
        id="2301.00001",
        title="Dyadic martingales",
        abstract="Dyadic decompositions in harmonic analysis.",
        published_at=dt.datetime(2023, 1, 2),
    )
    for i in range(12):
        make_papers(
            db,
            1,
            title=f"Galaxy survey number {i}",
            abstract="Redshifts of galaxies.",
            published_at=dt.datetime(2025, 1, 1 + i),
        )
    embed_pending(settings, db)
    feed = _parse(client.get("/feeds/search.atom", params={"q": "dyadic"}))
    page = client.get(
        "/api/papers/search", params={"q": "dyadic", "sort": "newest", "limit": 50}
    ).json()
    assert [e.link.rsplit("/", 1)[1] for e in feed.entries] == [r["paper"]["id"] for r in page]
    assert "2301.00001" in [r["paper"]["id"] for r in page]
    assert not any("Galaxy" in e.title for e in feed.entries)
    assert _parse(client.get("/feeds/search.atom", params={"q": "zzzqqq"})).entries == []
