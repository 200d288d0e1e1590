"""Regression tests for the defects an outside audit found at the HTTP edge (issue 12: D5
extreme dates, D6 large ids, D7 NUL bytes, D10 open redirect via Referer, D11 hidden papers,
D12 OpenAPI drift), on SQLite and PostgreSQL. Each failed (500, a wrong status or a leak)
before its fix. The general rules behind them are property-tested in test_input_policy.py
and checked against the OpenAPI document in test_openapi_contract.py."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from paperwire.store.models import Comment, Upvote
from tests.factories import make_feed_papers
from tests.web.accountkit import (  # noqa: F401
    bearer,
    fast_hashing,
    make_user,
    post_form,
    signin,
    token_for,
    wapp,
    web,
)

DAY = dt.date(2026, 11, 20)


def _error(response, status: int, code: str) -> str:
    assert response.status_code == status, response.text[:300]
    body = response.json()
    assert set(body) == {"error", "detail"} and body["error"] == code and body["detail"]
    return body["detail"]


@pytest.fixture
def alice(db):
    user = make_user(db, "alice")
    return user, bearer(token_for(db, user))


@pytest.fixture
def papers(db):
    visible = make_feed_papers(db, 2, day=DAY)
    (hidden,) = make_feed_papers(db, 1, day=DAY, hidden=True)
    return visible, hidden


# --- D5: extreme dates ---------------------------------------------------------------------


def test_a_week_running_past_9999_is_refused_with_400(web):
    detail = _error(web.get("/api/daily_papers?week=9999-W52"), 400, "bad_request")
    assert "9999-W52" in detail and "9999-12-31" in detail
    assert web.get("/papers/week/9999-W52").status_code == 400


@pytest.mark.parametrize(
    "url, absent",
    [
        ("/api/daily_papers?month=9999-12", None),
        ("/papers/month/9999-12", "Next month"),
        ("/papers/month/0001-01", "Previous month"),
        ("/papers/week/0001-W01", "Previous week"),
        ("/papers/week/9999-W51", "Next week"),
        ("/papers?date=9999-12-31", 'aria-current="page">Week'),
        ("/papers?date=0001-01-01", None),
    ],
)
def test_periods_at_the_ends_of_the_calendar_show_without_links_beyond_them(web, url, absent):
    response = web.get(url)
    assert response.status_code == 200, response.text[:300]
    if absent:
        assert absent not in response.text


def test_a_search_up_to_the_last_representable_day_has_no_upper_bound(web, db):
    (rec,) = make_feed_papers(db, 1, day=DAY, title="Spectral lattice kernels")
    response = web.get("/search", params={"q": "lattice", "mode": "lexical", "to": "9999-12-31"})
    assert response.status_code == 200
    assert f"/papers/{rec.id}" in response.text


# --- D6: ids beyond the integer columns ----------------------------------------------------


@pytest.mark.parametrize("parent", [2**31, 2**63])
def test_an_api_comment_answering_an_id_beyond_the_columns_is_refused(web, papers, alice, parent):
    (paper, _), _ = papers
    response = web.post(
        f"/api/papers/{paper.id}/comments",
        headers=alice[1],
        json={"body": "hello", "parentId": parent},
    )
    assert response.status_code in (400, 422), response.text
    assert "parentId" in response.json()["detail"]


def test_deleting_a_comment_id_beyond_the_columns_is_422(web, alice):
    detail = _error(web.delete(f"/api/comments/{2**31}", headers=alice[1]), 422, "invalid")
    assert "comment_id" in detail


def test_revoking_a_token_id_beyond_the_columns_is_422(web, db):
    make_user(db, "bob")
    signin(web, "bob")
    response = post_form(web, f"/profile/tokens/{2**31}/revoke", {}, token_from="/profile")
    assert response.status_code == 422


@pytest.mark.parametrize("parent", [str(2**31), str(2**63), "-1", "1e3"])
def test_a_form_reply_to_an_impossible_id_comes_back_with_the_text(web, db, papers, parent):
    (paper, _), _ = papers
    make_user(db, "bob")
    signin(web, "bob")
    response = post_form(
        web, f"/papers/{paper.id}/comments", {"body": "my careful reply", "parent_id": parent}
    )
    assert response.status_code == 400
    assert "my careful reply" in response.text and "parent_id" in response.text


# --- D7: NUL bytes -------------------------------------------------------------------------


def test_nul_in_a_path_is_400_not_a_database_error(web, papers, alice):
    assert web.get("/users/a%00b").status_code == 400
    _error(web.get("/api/papers/a%00b/comments"), 400, "bad_request")
    _error(web.post("/api/papers/a%00b/upvote", headers=alice[1]), 400, "bad_request")
    _error(
        web.post("/api/papers/a%00b/comments", headers=alice[1], json={"body": "x"}),
        400,
        "bad_request",
    )


@pytest.mark.parametrize("url", ["/papers/%00", "/search?q=seq%00"])
def test_nul_in_a_page_request_is_a_400_page_naming_the_part(web, url):
    response = web.get(url)
    assert response.status_code == 400 and "text/html" in response.headers["content-type"]
    assert "control character (U+0000)" in response.text


def test_nul_in_a_json_body_is_400_naming_the_field(web, db, papers, alice):
    (paper, _), _ = papers
    detail = _error(
        web.post(f"/api/papers/{paper.id}/comments", headers=alice[1], json={"body": "a\x00b"}),
        400,
        "bad_request",
    )
    assert "body" in detail and "U+0000" in detail
    with db.session() as s:
        assert s.scalars(select(Comment)).all() == []


@pytest.mark.parametrize(
    "url, fields",
    [
        ("/signin", {"username": "a\x00b", "password": "x" * 10}),
        (
            "/signup",
            {
                "username": "bob",
                "password": "x" * 10,
                "password_confirm": "x" * 10,
                "email": "a\x00@example.org",
            },
        ),
    ],
)
def test_nul_in_an_anonymous_form_is_400(web, url, fields):
    response = post_form(web, url, fields, token_from=url)
    assert response.status_code == 400
    assert "U+0000" in response.text


def test_nul_in_a_signed_in_form_is_400_and_stores_nothing(web, db, papers):
    (paper, _), _ = papers
    make_user(db, "bob")
    signin(web, "bob")
    assert (
        post_form(web, "/profile/tokens", {"name": "a\x00b"}, token_from="/profile").status_code
        == 400
    )
    assert post_form(web, f"/papers/{paper.id}/comments", {"body": "a\x00b"}).status_code == 400
    assert post_form(web, "/papers/a%00b/upvote", {}).status_code == 400
    with db.session() as s:
        assert s.scalars(select(Comment)).all() == []


# --- D10: open redirect through Referer ----------------------------------------------------


@pytest.mark.parametrize(
    "referer",
    [
        "http://testserver//evil.example/x",
        "http://testserver/\\evil.example/x",
        "http://evil.example/papers",
        "javascript:alert(1)",
    ],
)
def test_a_vote_never_redirects_off_site_whatever_the_referer(web, db, papers, referer):
    (paper, _), _ = papers
    make_user(db, "bob")
    signin(web, "bob")
    response = post_form(web, f"/papers/{paper.id}/upvote", {}, headers={"Referer": referer})
    assert response.status_code == 303
    assert response.headers["location"] == f"/papers/{paper.id}"


def test_a_vote_from_a_page_of_the_site_goes_back_to_it(web, db, papers):
    (paper, _), _ = papers
    make_user(db, "bob")
    signin(web, "bob")
    response = post_form(
        web,
        f"/papers/{paper.id}/upvote",
        {},
        headers={"Referer": "http://testserver/trending?window=day"},
    )
    assert response.headers["location"] == "/trending?window=day"


# --- D11: hidden papers --------------------------------------------------------------------


def test_a_hidden_papers_comments_are_not_served(web, papers):
    _, hidden = papers
    _error(web.get(f"/api/papers/{hidden.id}/comments"), 404, "not_found")


def test_a_hidden_paper_takes_no_votes_or_comments(web, db, papers, alice):
    _, hidden = papers
    _error(web.post(f"/api/papers/{hidden.id}/upvote", headers=alice[1]), 404, "not_found")
    _error(
        web.post(f"/api/papers/{hidden.id}/comments", headers=alice[1], json={"body": "hello"}),
        404,
        "not_found",
    )
    make_user(db, "bob")
    signin(web, "bob")
    assert post_form(web, f"/papers/{hidden.id}/upvote", {}).status_code == 404
    with db.session() as s:
        assert s.scalars(select(Upvote)).all() == []
        assert s.scalars(select(Comment)).all() == []


# --- D12: the OpenAPI document is the contract ---------------------------------------------


def test_the_document_covers_the_api_and_feeds_only(web):
    doc = web.get("/openapi.json").json()
    assert doc["paths"] and all(p.startswith(("/api/", "/feeds/")) for p in doc["paths"])


def test_errors_are_declared_with_their_real_shape(web):
    doc = web.get("/openapi.json").json()
    assert "HTTPValidationError" not in str(doc)
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            for status in ("400", "422"):
                schema = responses[status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (method, path)


def test_every_atom_feed_is_declared_as_atom_only(web):
    """A public list's feed was declared as application/json too (its response class): a
    client generated from the document would parse the Atom XML as JSON."""
    doc = web.get("/openapi.json").json()
    feeds = {path: ops["get"] for path, ops in doc["paths"].items() if path.endswith(".atom")}
    assert "/feeds/lists/{list_id}.atom" in feeds and "/feeds/daily.atom" in feeds
    for path, operation in feeds.items():
        assert list(operation["responses"]["200"]["content"]) == ["application/atom+xml"], path


def test_one_paper_is_declared_as_the_flat_paper_it_returns(web, papers):
    (paper, _), _ = papers
    doc = web.get("/openapi.json").json()
    ref = doc["paths"]["/api/papers/{paper_id}"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]["$ref"]
    declared = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    body = web.get(f"/api/papers/{paper.id}").json()
    assert body["id"] == paper.id
    assert set(declared["required"]) <= set(body)
    assert set(body) <= set(declared["properties"])


@pytest.mark.parametrize(
    "method, url, allowed",
    [
        ("PUT", "/feeds/daily.atom", "GET"),
        ("PATCH", "/", "GET"),
        ("DELETE", "/signin", "GET, POST"),
        ("PUT", "/api/papers/2401.00001/upvote", "POST, DELETE"),
    ],
)
def test_an_undeclared_method_is_405_with_allow_not_a_csrf_403(web, method, url, allowed):
    response = web.request(method, url)
    assert response.status_code == 405, response.text[:200]
    for m in allowed.split(", "):
        assert m in response.headers["allow"]


def test_a_write_to_nowhere_is_404_not_a_csrf_403(web):
    assert web.post("/no/such/page").status_code == 404
