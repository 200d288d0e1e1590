"""The JSON write API with personal API tokens (SQLite and PostgreSQL): submit, upvote,
comments, moderation; errors are {error, detail} with the right status."""

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from paperwire.store.models import Comment, FeedEntry, Paper
from tests.factories import make_feed_papers, make_papers
from tests.support.arxiv_replay import arxiv_replay_server
from tests.web.accountkit import (  # noqa: F401
    bearer,
    fast_hashing,
    make_app,
    make_user,
    token_for,
    wapp,
    web,
)


@pytest.fixture
def alice(db):
    user = make_user(db, "alice")
    return user, bearer(token_for(db, user))


def _error(response, status, code):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail"} and body["error"] == code and body["detail"]
    return body["detail"]


def test_writes_without_a_token_are_401(web, db):
    (rec,) = make_papers(db, 1)
    for method, url, kwargs in [
        ("post", f"/api/papers/{rec.id}/upvote", {}),
        ("delete", f"/api/papers/{rec.id}/upvote", {}),
        ("post", f"/api/papers/{rec.id}/comments", {"json": {"body": "hi"}}),
        ("post", "/api/papers/submit", {"json": {"id": rec.id}}),
        ("post", f"/api/papers/{rec.id}/hide", {}),
    ]:
        r = getattr(web, method)(url, **kwargs)
        assert "API token" in _error(r, 401, "unauthorized"), url
        assert r.headers["www-authenticate"].startswith("Bearer")
    r = web.post(f"/api/papers/{rec.id}/upvote", headers=bearer("pw_revoked-or-made-up"))
    assert "unknown or revoked" in _error(r, 401, "unauthorized")
    r = web.post(f"/api/papers/{rec.id}/upvote", headers={"Authorization": "Basic abc"})
    _error(r, 401, "unauthorized")


def test_upvote_and_withdraw_are_idempotent(web, db, alice):
    (rec,) = make_papers(db, 1, imported_upvotes=10)
    _, headers = alice
    first = web.post(f"/api/papers/{rec.id}/upvote", headers=headers).json()
    second = web.post(f"/api/papers/{rec.id}/upvote", headers=headers).json()
    assert (first["upvotes"], first["changed"]) == (11, True)
    assert (second["upvotes"], second["changed"], second["upvoted"]) == (11, False, True)
    gone = web.delete(f"/api/papers/{rec.id}/upvote", headers=headers).json()
    again = web.delete(f"/api/papers/{rec.id}/upvote", headers=headers).json()
    assert (gone["upvotes"], gone["upvoted"], again["changed"]) == (10, False, False)
    _error(web.post("/api/papers/2501.99999/upvote", headers=headers), 404, "not_found")


def test_withdrawing_never_removes_another_users_vote(web, db, alice):
    (rec,) = make_papers(db, 1)
    _, alice_headers = alice
    bob = make_user(db, "bob")
    web.post(f"/api/papers/{rec.id}/upvote", headers=alice_headers)
    r = web.delete(f"/api/papers/{rec.id}/upvote", headers=bearer(token_for(db, bob)))
    assert r.json() == {"paperId": rec.id, "upvoted": False, "upvotes": 1, "changed": False}


def test_comment_roundtrip_sanitized(web, db, alice):
    (rec,) = make_papers(db, 1)
    _, headers = alice
    r = web.post(
        f"/api/papers/{rec.id}/comments",
        headers=headers,
        json={"body": "See [this](https://example.org) <script>x()</script>"},
    )
    assert r.status_code == 201
    body = r.json()
    assert body["author"] == {"name": "alice"} and body["paperId"] == rec.id
    assert 'rel="nofollow ugc"' in body["bodyHtml"] and "<script>" not in body["bodyHtml"]
    reply = web.post(
        f"/api/papers/{rec.id}/comments",
        headers=headers,
        json={"body": "me too", "parentId": body["id"]},
    ).json()
    listed = web.get(f"/api/papers/{rec.id}/comments").json()
    assert [c["id"] for c in listed] == [body["id"], reply["id"]]
    assert listed[1]["parentId"] == body["id"]


def test_comment_bad_input(web, db, alice):
    (rec,) = make_papers(db, 1)
    _, headers = alice
    assert "empty" in _error(
        web.post(f"/api/papers/{rec.id}/comments", headers=headers, json={"body": "  "}),
        400,
        "bad_request",
    )
    assert "required" in _error(
        web.post(f"/api/papers/{rec.id}/comments", headers=headers, json={"parentId": 1}),
        422,
        "invalid",
    )
    _error(
        web.post(
            f"/api/papers/{rec.id}/comments",
            headers=headers,
            content=b"{not json",
        ),
        422,
        "invalid",
    )
    _error(
        web.post("/api/papers/2501.99999/comments", headers=headers, json={"body": "x"}),
        404,
        "not_found",
    )


def test_only_author_or_admin_deletes_comments_and_only_admins_hide(web, db, alice):
    (rec,) = make_feed_papers(db, 1, day=dt.date(2026, 11, 20))
    _, alice_headers = alice
    mallory = bearer(token_for(db, make_user(db, "mallory")))
    boss = bearer(token_for(db, make_user(db, "boss", admin=True)))
    cid = web.post(
        f"/api/papers/{rec.id}/comments", headers=alice_headers, json={"body": "hello"}
    ).json()["id"]
    assert "author" in _error(web.delete(f"/api/comments/{cid}", headers=mallory), 403, "forbidden")
    assert "administrators" in _error(
        web.post(f"/api/papers/{rec.id}/hide", headers=mallory), 403, "forbidden"
    )
    assert "administrators" in _error(
        web.post(f"/api/papers/{rec.id}/hide", headers=alice_headers), 403, "forbidden"
    )
    r = web.delete(f"/api/comments/{cid}", headers=boss)
    assert r.status_code == 200 and r.json()["deleted"] is True
    assert web.post(f"/api/papers/{rec.id}/hide", headers=boss).json()["changed"] is True
    with db.session() as s:
        paper = s.get(Paper, rec.id)
        assert paper.hidden and paper.num_comments == 0
        assert s.scalar(select(Comment.deleted).where(Comment.id == cid)) is True
    assert web.get("/api/me", headers=boss).json() == {"name": "boss", "isAdmin": True}
    _error(web.delete("/api/comments/999999", headers=boss), 404, "not_found")


@pytest.fixture
def api_submit(settings, db):
    with arxiv_replay_server() as replay:
        app = make_app(
            settings,
            db,
            submit_max_age_days=100000,
            submit_daily_quota=3,
            **replay.settings_overrides(),
        )
        with TestClient(app) as client:
            user = make_user(db, "alice")
            yield client, bearer(token_for(db, user))


def test_api_submit_and_its_refusals(api_submit, db):
    client, headers = api_submit
    r = client.post("/api/papers/submit", headers=headers, json={"id": "arXiv:1707.08567"})
    assert r.status_code == 201
    item = r.json()
    assert item["paper"]["id"] == "1707.08567" and item["submittedBy"] == {"name": "alice"}
    assert item["paper"]["title"].startswith("Proceedings of Workshop AEW10")
    assert item["submittedOnDailyAt"]
    assert "already on the feed" in _error(
        client.post("/api/papers/submit", headers=headers, json={"id": "1707.08567"}),
        409,
        "conflict",
    )
    assert "not an arXiv id" in _error(
        client.post("/api/papers/submit", headers=headers, json={"id": "hello"}), 400, "bad_request"
    )
    assert "arXiv has no paper" in _error(
        client.post("/api/papers/submit", headers=headers, json={"id": "0808.05394"}),
        404,
        "not_found",
    )
    _error(client.post("/api/papers/submit", headers=headers, json={}), 422, "invalid")
    make_papers(db, 2, published_at=dt.datetime.now(), id="2611.00011")
    make_papers(db, 1, published_at=dt.datetime.now(), id="2611.00012")
    assert (
        client.post("/api/papers/submit", headers=headers, json={"id": "2611.00011"}).status_code
        == 201
    )
    assert (
        client.post("/api/papers/submit", headers=headers, json={"id": "2611.00012"}).status_code
        == 201
    )
    r = client.post("/api/papers/submit", headers=headers, json={"id": "1605.08386"})
    assert "daily limit is 3" in _error(r, 429, "rate_limited")
    assert int(r.headers["retry-after"]) > 0
    with db.session() as s:
        assert len(s.scalars(select(FeedEntry)).all()) == 3


def test_arxiv_down_is_503_and_changes_nothing(settings, db):
    with arxiv_replay_server() as replay:
        # Every request to the API path fails, as when arXiv is overloaded.
        replay.add(
            "/api/query",
            {
                "search_query": "",
                "id_list": "2611.00999",
                "sortBy": "relevance",
                "sortOrder": "descending",
                "start": "0",
                "max_results": "100",
            },
            500,
            b"oops",
        )
        app = make_app(
            settings,
            db,
            submit_max_age_days=100000,
            arxiv_max_retries=0,
            **replay.settings_overrides(),
        )
        with TestClient(app) as client:
            user = make_user(db, "alice")
            r = client.post(
                "/api/papers/submit", headers=bearer(token_for(db, user)), json={"id": "2611.00999"}
            )
    assert "try again later" in _error(r, 503, "unavailable")
    with db.session() as s:
        assert s.scalar(select(FeedEntry)) is None


def test_write_endpoints_are_in_the_openapi_document(web):
    doc = web.get("/openapi.json").json()
    paths = doc["paths"]
    assert "post" in paths["/api/papers/submit"]
    assert {"post", "delete"} <= set(paths["/api/papers/{paper_id}/upvote"])
    assert "PersonalApiToken" in doc["components"]["securitySchemes"]
