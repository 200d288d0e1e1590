"""Rows stored before the record schema existed (written here straight into the table, past
the importer) cannot break a page, the API, a feed, a mail or the lexical index (issue 12:
D2, D4) — SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses

import feedparser
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import update

from paperwire.digest.build import paper_from_row as digest_paper
from paperwire.digest.render import _html_paper
from paperwire.store.models import Paper, utcnow
from paperwire.store.papers import upsert_papers
from paperwire.web.periods import today as site_today
from tests.factories import make_feed_papers
from tests.web.readkit import app, client  # noqa: F401


def _store(db, pid: str, **values) -> None:
    with db.session() as session:
        session.execute(update(Paper).where(Paper.id == pid).values(**values))


def _control_title(db) -> str:
    # PostgreSQL refuses NUL in text columns outright; SQLite stores it.
    return "Bad\x01 title\x0b here" + ("\x00" if db.dialect == "sqlite" else "")


PAGES = (
    "/",
    "/trending",
    "/search?q=graph&mode=lexical",
    "/api/daily_papers",
    "/feeds/daily.atom",
    "/feeds/trending.atom",
)


@pytest.fixture
def bad_paper(settings, db):
    rec = make_feed_papers(
        db,
        1,
        day=site_today(settings),
        upvotes=3,
        title="Graph paper",
        abstract="graph graph graph",
    )[0]
    _store(
        db,
        rec.id,
        authors=["Bob", 5, {"name": 7}, {"nom": "x"}, {"name": "Eve", "affiliations": "Uni"}],
        categories=[1, "cs.CL", None],
        versions=[{"version": "x"}, 5, {"version": 2}],
        primary_category=None,
    )
    return rec.id


def test_authors_stored_as_strings_do_not_break_any_page(client, bad_paper):
    for path in PAGES + (f"/papers/{bad_paper}", f"/api/papers/{bad_paper}"):
        resp = client.get(path)
        assert resp.status_code == 200, (path, resp.text[:300])
    paper = client.get(f"/api/papers/{bad_paper}").json()
    paper = paper.get("paper", paper)
    assert [a["name"] for a in paper["authors"]] == ["Bob", "Eve"]
    assert paper["categories"] == ["cs.CL"] and paper["primaryCategory"] == "cs.CL"
    assert "Bob" in client.get(f"/papers/{bad_paper}").text


def test_control_characters_in_a_stored_title_keep_feeds_valid(client, db, bad_paper):
    _store(db, bad_paper, title=_control_title(db), abstract="graph \x02 abstract")
    for path in PAGES + (f"/papers/{bad_paper}",):
        assert client.get(path).status_code == 200, path
    feed = feedparser.parse(client.get("/feeds/daily.atom").content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.entries[0].title == "Bad title here"


def test_javascript_and_data_links_are_never_rendered(client, db, bad_paper):
    _store(
        db,
        bad_paper,
        abs_url="javascript:alert(1)",
        pdf_url="data:text/html,<script>alert(1)</script>",
    )
    page = client.get(f"/papers/{bad_paper}").text
    assert "javascript:" not in page and "data:text" not in page
    api = client.get(f"/api/papers/{bad_paper}").json()
    api = api.get("paper", api)
    assert api["absUrl"] is None and api["pdfUrl"] is None
    feed = client.get("/feeds/daily.atom").text
    assert "data:text" not in feed and 'rel="related"' not in feed


def test_digest_mail_never_links_javascript_or_data_urls():
    row = (
        "2401.00001",
        "T\x01itle",
        "abs",
        ["Bob", {"name": "Ann"}, 3],
        2,
        [1, "cs.CL"],
        None,
        "javascript:alert(1)",
        "data:text/html,x",
        0,
        0,
    )
    paper = digest_paper(row, "https://papers.example")
    assert (paper.abs_url, paper.pdf_url) == (None, None)
    assert paper.authors == ("Bob", "Ann") and paper.categories == ("cs.CL",)
    html = _html_paper(paper)
    assert "javascript:" not in html and "data:text" not in html and "\x01" not in html


def test_non_string_categories_do_not_break_the_lexical_index(settings, db, bad_paper):
    from paperwire.search.filters import merge
    from paperwire.search.lexical import LexicalIndex
    from paperwire.search.query import parse_query

    index = LexicalIndex(settings, db)
    try:
        index.rebuild()
        # A later change: the refresh must take it too.
        _store(
            db,
            bad_paper,
            categories=[2, {"x": 1}, "cs.LG"],
            title="Graph again",
            modified_at=utcnow(),
        )
        index.refresh(block=True)
        pq = parse_query("graph")
        hits = [pid for pid, _ in index.search(pq, merge(pq, None), limit=10).hits]
        assert hits == [bad_paper]
    finally:
        index.close()


# --- the schema's promise: whatever passes it renders everywhere ------------------------------

_any_text = st.text(min_size=1, max_size=40)


def test_any_record_the_schema_accepts_renders_on_pages_feeds_and_mail(client, settings, db):
    """Generated titles, abstracts, author names and comments (any Unicode the generator can
    produce); those the record schema accepts are stored and must give a 200 page, a valid
    Atom feed, an API object and a digest entry."""
    from paperwire.ingest.items import RecordError
    from paperwire.ingest.schema import check_record

    day = site_today(settings)
    rec = make_feed_papers(db, 1, day=day, upvotes=1)[0]

    @hsettings(
        max_examples=25,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(_any_text, _any_text, _any_text, st.one_of(st.none(), _any_text))
    def check(title, abstract, name, comments):
        record = dataclasses.replace(
            rec,
            title=title,
            abstract=abstract,
            comments=comments,
            authors=[{"name": name, "affiliations": [name]}],
        )
        try:
            check_record(record)
        except RecordError:
            return
        with db.session() as session:
            upsert_papers(session, [record])
        assert client.get(f"/papers/{rec.id}").status_code == 200
        assert client.get(f"/api/papers/{rec.id}").status_code == 200
        feed = client.get("/feeds/daily.atom")
        assert feed.status_code == 200
        assert not feedparser.parse(feed.content).bozo
        row = (
            rec.id,
            title,
            abstract,
            record.authors,
            1,
            record.categories,
            None,
            record.abs_url,
            record.pdf_url,
            1,
            0,
        )
        assert rec.id in _html_paper(digest_paper(row, "https://papers.example"))

    check()
