"""The read API: /api/daily_papers, /api/papers/{id}, /api/papers/{id}/similar,
/api/papers/search, /openapi.json — SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.factories import make_feed_papers, make_papers
from tests.web.readkit import app, client  # noqa: F401

DAY = dt.date(2025, 3, 5)  # Wednesday of 2025-W10


def test_daily_papers_has_the_public_api_shape(client, db):
    recs = make_feed_papers(
        db, 2, day=DAY, upvotes=[4, 9], submitted_by_name="akhaliq", num_comments=2
    )
    resp = client.get(f"/api/daily_papers?date={DAY}")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert [item["paper"]["id"] for item in body] == [recs[1].id, recs[0].id]
    item = body[0]
    assert set(item) >= {
        "paper",
        "submittedOnDailyAt",
        "submittedBy",
        "numComments",
        "title",
        "publishedAt",
    }
    paper = item["paper"]
    assert set(paper) >= {"id", "title", "summary", "authors", "publishedAt", "upvotes"}
    assert paper["upvotes"] == 9 and item["numComments"] == 2
    assert all(set(a) >= {"name"} for a in paper["authors"])
    assert item["submittedBy"] == {"name": "akhaliq"}
    assert item["submittedOnDailyAt"].startswith(str(DAY)) and item["submittedOnDailyAt"].endswith(
        "Z"
    )
    assert resp.headers["x-total-count"] == "2"


def test_daily_papers_by_week_and_month_and_sorts(client, db):
    a = make_feed_papers(db, 1, day=DAY, upvotes=1, published_at=dt.datetime(2025, 3, 1))[0]
    b = make_feed_papers(
        db, 1, day=DAY + dt.timedelta(days=2), upvotes=5, published_at=dt.datetime(2025, 2, 1)
    )[0]
    c = make_feed_papers(
        db, 1, day=dt.date(2025, 3, 20), upvotes=3, published_at=dt.datetime(2025, 3, 18)
    )[0]
    week = client.get("/api/daily_papers?week=2025-W10").json()
    assert [i["paper"]["id"] for i in week] == [b.id, a.id]
    month = client.get("/api/daily_papers?month=2025-03&sort=publishedAt").json()
    assert [i["paper"]["id"] for i in month] == [c.id, a.id, b.id]
    trending = client.get("/api/daily_papers?month=2025-03&sort=trending").json()
    assert {i["paper"]["id"] for i in trending} == {a.id, b.id, c.id}
    scores = [i["trendingScore"] for i in trending]
    assert scores == sorted(scores, reverse=True)


def test_daily_papers_limit_and_pages(client, db):
    recs = make_feed_papers(db, 5, day=DAY, upvotes=[5, 4, 3, 2, 1])
    page1 = client.get(f"/api/daily_papers?date={DAY}&limit=2&p=1").json()
    page3 = client.get(f"/api/daily_papers?date={DAY}&limit=2&p=3").json()
    assert [i["paper"]["id"] for i in page1] == [recs[0].id, recs[1].id]
    assert [i["paper"]["id"] for i in page3] == [recs[4].id]
    assert client.get(f"/api/daily_papers?date={DAY}&limit=2&p=9").json() == []


@pytest.mark.parametrize(
    "query,status,needle",
    [
        ("date=2025-02-30", 400, "YYYY-MM-DD"),
        ("week=2025-53", 400, "ISO week"),
        ("month=March", 400, "YYYY-MM"),
        ("date=2025-03-05&week=2025-W10", 400, "only one of"),
        ("sort=best", 400, "sort must be one of"),
        ("limit=0", 422, "limit"),
        ("limit=1000", 422, "limit"),
        ("limit=ten", 422, "limit"),
        ("p=0", 422, "p"),
    ],
)
def test_daily_papers_bad_input_is_a_json_error(client, query, status, needle):
    resp = client.get(f"/api/daily_papers?{query}")
    assert resp.status_code == status
    body = resp.json()
    assert set(body) == {"error", "detail"}
    assert needle in body["detail"]


def test_get_paper_by_id_including_old_style_ids(client, db):
    make_papers(db, 1, id="hep-th/9901001", title="Strings $\\alpha'$")
    (rec,) = make_feed_papers(db, 1, day=DAY, upvotes=3)
    old = client.get("/api/papers/hep-th/9901001")
    assert old.status_code == 200
    assert old.json()["id"] == "hep-th/9901001" and old.json()["title"] == "Strings $\\alpha'$"
    assert old.json()["submittedOnDailyAt"] is None
    body = client.get(f"/api/papers/{rec.id}").json()
    assert body["upvotes"] == 3 and body["onFeedDay"] == str(DAY)
    assert body["bibtex"].startswith("@misc{")


@pytest.mark.parametrize(
    "path", ["/api/papers/0000.00000", "/api/papers/0000.00000/similar", "/api/papers/" + "9" * 200]
)
def test_unknown_paper_is_json_404(client, path):
    resp = client.get(path)
    assert resp.status_code == 404
    assert resp.json()["error"] == "not_found"


def test_a_nul_in_a_paper_id_is_refused_at_the_edge(client):
    resp = client.get("/api/papers/%00")
    assert resp.status_code == 400
    assert resp.json() == {
        "error": "bad_request",
        "detail": "the path contains a control character (U+0000)",
    }


def test_hidden_paper_is_404_in_the_api(client, db):
    (rec,) = make_feed_papers(db, 1, day=DAY, hidden=True)
    assert client.get(f"/api/papers/{rec.id}").status_code == 404
    assert client.get(f"/api/daily_papers?date={DAY}").json() == []


def test_search_api_returns_papers_scores_and_highlights(client, db):
    make_papers(db, 1, id="2401.00001", title="Seq2seq models", abstract="sequence learning")
    make_papers(db, 1, id="2401.00002", title="Galaxies", abstract="rotation curves")
    resp = client.get("/api/papers/search?q=seq&mode=lexical&limit=5")
    assert resp.status_code == 200
    body = resp.json()
    assert [r["paper"]["id"] for r in body] == ["2401.00001"]
    assert set(body[0]) == {"paper", "score", "highlights", "matchedBy", "similarity"}
    assert body[0]["matchedBy"] == ["lexical"]
    assert isinstance(body[0]["score"], float) and body[0]["highlights"]


@pytest.mark.parametrize(
    "query,status",
    [
        ("", 422),
        ("q=", 400),
        ("q=%20", 400),
        ("q=seq&mode=magic", 400),
        ("q=seq&limit=0", 422),
        ("q=seq&limit=101", 422),
        ("q=seq%00", 400),
        ("q=" + "a" * 1001, 422),
    ],
)
def test_search_api_bad_input(client, query, status):
    resp = client.get(f"/api/papers/search?{query}")
    assert resp.status_code == status
    assert set(resp.json()) == {"error", "detail"}


def test_malformed_query_is_answered_with_a_notice_header(client, db):
    make_papers(db, 1, title="Seq2seq models")
    resp = client.get("/api/papers/search", params={"q": 'seq "unbalanced', "mode": "lexical"})
    assert resp.status_code == 200
    assert resp.headers.get("x-search-notices")


def test_openapi_document_lists_the_read_endpoints(client):
    doc = client.get("/openapi.json").json()
    paths = doc["paths"]
    for path in (
        "/api/daily_papers",
        "/api/papers/search",
        "/api/papers/{paper_id}",
        "/api/papers/{paper_id}/similar",
        "/feeds/daily.atom",
    ):
        assert path in paths, path
    daily = paths["/api/daily_papers"]["get"]
    assert {p["name"] for p in daily["parameters"]} >= {
        "date",
        "week",
        "month",
        "sort",
        "limit",
        "p",
    }
    assert "404" in paths["/api/papers/{paper_id}"]["get"]["responses"]


def test_unknown_api_path_is_json_404(client):
    resp = client.get("/api/nothing-here")
    assert resp.status_code == 404 and resp.json()["error"] == "not_found"


@pytest.mark.parametrize(
    "q",
    [
        "foo:bar",
        "cat:日本",
        "author:\u201cL\u00f6we\u201d seq",
        "seq \u2014 \u00e9t\u00e9 after:nope",
        "\u00e4:\u00f6",
    ],
)
def test_search_api_never_fails_on_notices_with_any_text(client, db, q):
    from urllib.parse import unquote

    make_papers(db, 1, title="Seq2seq models")
    resp = client.get("/api/papers/search", params={"q": q, "mode": "lexical"})
    assert resp.status_code == 200
    notices = unquote(resp.headers["x-search-notices"])
    assert notices and "\ufffd" not in notices


def test_search_api_total_does_not_depend_on_limit(client, db):
    make_papers(db, 9, title="Prot engineering")  # matched by the prefix only
    make_papers(db, 3, title="Galaxies", abstract="Redshifts of galaxies.")
    totals = set()
    for limit, pages in ((2, 5), (4, 3), (50, 1)):
        ids = []
        for p in range(1, pages + 1):
            resp = client.get(
                "/api/papers/search",
                params={"q": "prot", "mode": "lexical", "limit": limit, "p": p},
            )
            totals.add(resp.headers["x-total-count"])
            ids += [r["paper"]["id"] for r in resp.json()]
        assert resp.headers["x-has-more"] == "false" and len(set(ids)) == 9 == len(ids)
    assert totals == {"9"}


@pytest.fixture
def model_prepared_elsewhere(monkeypatch):
    """As on a first `paperwire serve`: another process prepares the embedding model and it
    is not there yet (no encoder loaded in this process; other tests' encoders put back)."""
    from paperwire.search import embed

    monkeypatch.setenv(embed.PREPARED_ELSEWHERE_ENV, "1")
    with embed.ENCODERS.isolated():
        yield


def test_similar_while_the_model_is_prepared_is_503_with_retry_after(
    model_prepared_elsewhere, client, db
):
    (rec,) = make_papers(db, 1, title="Selective state spaces")
    resp = client.get(f"/api/papers/{rec.id}/similar")
    assert resp.status_code == 503
    assert int(resp.headers["retry-after"]) > 0
    body = resp.json()
    assert set(body) == {"error", "detail"} and body["error"] == "unavailable"
    assert "being prepared" in body["detail"]
    # Unknown papers are still 404, not 503.
    assert client.get("/api/papers/0000.00000/similar").status_code == 404


def test_openapi_declares_the_503_of_similar_with_its_retry_after(client):
    doc = client.get("/openapi.json").json()
    declared = doc["paths"]["/api/papers/{paper_id}/similar"]["get"]["responses"]["503"]
    assert declared["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"
    }
    assert "Retry-After" in declared["headers"]
