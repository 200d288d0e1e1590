"""The search page /search — real search service (lexical mode keeps these fast), SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.factories import make_papers
from tests.web.readkit import app, client  # noqa: F401


def _ids(html: str) -> list[str]:
    return re.findall(r'class="card-title" id="[^"]+">\s*<a href="/papers/([^"]+)"', html)


@pytest.fixture
def library(db):
    make_papers(
        db,
        1,
        id="2401.00001",
        title="Seq2seq models for translation",
        abstract="Sequence to sequence learning with attention.",
        categories=["cs.CL"],
        published_at=dt.datetime(2024, 1, 5),
    )
    make_papers(
        db,
        1,
        id="2402.00002",
        title="scRNA-seq clustering",
        abstract="Clustering single-cell sequencing data.",
        categories=["q-bio.GN"],
        published_at=dt.datetime(2024, 2, 5),
    )
    make_papers(
        db,
        1,
        id="2403.00003",
        title="Galaxy rotation curves",
        abstract="Rotation curves of spiral galaxies.",
        categories=["astro-ph.GA"],
        published_at=dt.datetime(2024, 3, 5),
    )


def test_search_finds_prefix_matches_with_highlighted_snippets(client, library):
    resp = client.get("/search?q=seq&mode=lexical")
    assert resp.status_code == 200
    assert set(_ids(resp.text)) == {"2401.00001", "2402.00002"}
    assert "<mark>" in resp.text
    assert "2 results" in resp.text
    assert 'value="seq"' in resp.text


def test_result_titles_and_snippets_render_math_and_keep_highlights(client, db):
    make_papers(
        db,
        1,
        id="2104.12255",
        title="scE$^2$TM: interpretable embedding of cells",
        abstract="We embed cells with $\\alpha$-divergences and an embedding model.",
    )
    html = client.get("/search", params={"q": "embedding", "mode": "lexical"}).text
    card = html[html.index('class="card-title"') :]
    card = card[: card.index("</article>")]
    assert "<msup>" in card and "$^2$" not in card  # title math rendered
    assert "<mi>α</mi>" in card and "$\\alpha$" not in card  # snippet math rendered
    assert "<mark>embedding</mark>" in card.lower()  # the highlight survived


def test_category_and_date_filters_narrow_results(client, library):
    html = client.get("/search?q=seq&mode=lexical&category=q-bio.GN").text
    assert _ids(html) == ["2402.00002"]
    html = client.get("/search?q=seq&mode=lexical&from=2024-01-01&to=2024-01-31").text
    assert _ids(html) == ["2401.00001"]
    # The filters stay in the form.
    assert 'value="2024-01-01"' in html and 'value="2024-01-31"' in html


def test_sort_by_newest(client, library):
    html = client.get("/search?q=seq&mode=lexical&sort=newest").text
    assert _ids(html) == ["2402.00002", "2401.00001"]


def test_no_results_page_helps(client, library):
    resp = client.get("/search?q=zzzyxq&mode=lexical&category=cs.CL")
    assert resp.status_code == 200
    assert "No papers match" in resp.text
    assert "Remove the filters" in resp.text


@pytest.mark.parametrize(
    "q",
    [
        '"unbalanced quote seq',
        "seq unknownfield:x",
        "seq after:notadate",
        "-",
        "cat:",
        "((((",
        "a" * 999,
    ],
)
def test_malformed_queries_are_answered_never_500(client, library, q):
    resp = client.get("/search", params={"q": q, "mode": "lexical"})
    assert resp.status_code == 200
    assert "Search" in resp.text


def test_malformed_query_shows_the_parsers_notice(client, library):
    resp = client.get("/search", params={"q": "seq after:notadate", "mode": "lexical"})
    assert 'class="notice"' in resp.text


@pytest.mark.parametrize(
    "params,needle",
    [
        ({"q": "seq", "mode": "psychic"}, "mode must be one of"),
        ({"q": "seq", "sort": "random"}, "sort must be one of"),
        ({"q": "seq", "from": "last week"}, "from must be a date"),
        ({"q": "seq", "category": "cs CL; drop"}, "category must look like"),
        ({"q": "x" * 1001}, "too long"),
    ],
)
def test_bad_form_values_get_the_search_page_with_the_reason(client, params, needle):
    resp = client.get("/search", params=params)
    assert resp.status_code == 400
    assert "text/html" in resp.headers["content-type"]
    assert needle in resp.text
    assert 'class="search-page-form"' in resp.text


def test_empty_search_page_offers_examples(client):
    resp = client.get("/search")
    assert resp.status_code == 200 and "Search the library" in resp.text


def test_pagination_of_results(client, db):
    # PAPERWIRE_FEED_PAGE_SIZE (30 by default) papers per search page, as on the feeds.
    for i in range(35):
        make_papers(db, 1, id=f"2405.{i:05d}", title=f"Sequencing study {i}", abstract="sequencing")
    first = client.get("/search?q=sequencing&mode=lexical")
    second = client.get("/search?q=sequencing&mode=lexical&p=2")
    assert len(_ids(first.text)) == 30 and len(_ids(second.text)) == 5
    assert not set(_ids(first.text)) & set(_ids(second.text))
    assert 'href="/search?q=sequencing&amp;mode=lexical&amp;p=2"' in first.text
    # The count is the whole set on every page; no Next link after the last page; in
    # relevance order the pager does not speak of "newer".
    assert "35 results" in first.text and "35 results" in second.text
    assert 'rel="next"' not in second.text
    assert "Newer" not in second.text and "Previous page" in second.text


def test_page_size_setting_is_respected(settings, db):
    import dataclasses

    from fastapi.testclient import TestClient

    from paperwire.web.app import create_app

    make_papers(db, 12, title="Sequencing study", abstract="sequencing")
    app = create_app(dataclasses.replace(settings, feed_page_size=5, page_cache_seconds=0.0), db)
    with TestClient(app) as c:
        pages = [_ids(c.get(f"/search?q=sequencing&mode=lexical&p={p}").text) for p in (1, 2, 3)]
        last = c.get("/search?q=sequencing&mode=lexical&p=3").text
    assert [len(p) for p in pages] == [5, 5, 2]
    assert len({i for p in pages for i in p}) == 12
    assert 'rel="next"' not in last
    from paperwire.search.service import close_all

    close_all()


def test_newest_sort_pager_speaks_of_newer_and_older(client, db):
    make_papers(db, 35, title="Sequencing study", abstract="sequencing")
    first = client.get("/search?q=sequencing&mode=lexical&sort=newest").text
    second = client.get("/search?q=sequencing&mode=lexical&sort=newest&p=2").text
    assert "Older" in first and "Newer" in second


def test_nothing_matched_page_says_so_and_offers_a_near_spelling(client, library):
    html = client.get("/search?q=galaxys+rotation+zzzqqq&mode=lexical").text
    assert "No papers match" not in html  # rotation matches
    html = client.get("/search?q=rotaton&mode=lexical").text
    assert "No papers match" in html and "Nothing matched" in html
    assert 'href="/search?q=rotation&amp;mode=lexical"' in html
