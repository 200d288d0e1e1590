"""CSRF, security headers, session cookies and rate limits (SQLite and PostgreSQL)."""

import re

import pytest
from fastapi.testclient import TestClient

from tests.factories import make_papers
from tests.web.accountkit import (  # noqa: F401
    PASSWORD,
    bearer,
    csrf,
    fast_hashing,
    make_app,
    make_user,
    new_client,
    post_form,
    signin,
    token_for,
    wapp,
    web,
)

# --- CSRF ----------------------------------------------------------------------------------


def test_form_post_without_csrf_token_is_refused(web, db):
    (rec,) = make_papers(db, 1)
    make_user(db, "alice")
    signin(web, "alice")
    r = web.post(f"/papers/{rec.id}/upvote", data={}, follow_redirects=False)
    assert r.status_code == 403 and "CSRF" in r.text
    j = web.post(f"/papers/{rec.id}/upvote", data={}, headers={"accept": "application/json"})
    assert j.status_code == 403 and j.json()["error"] == "csrf_failed"
    with db.session() as s:
        from paperwire.store.models import Paper

        assert s.get(Paper, rec.id).upvotes == 0


def test_signin_form_needs_csrf_too(web, db):
    make_user(db, "alice")
    r = web.post(
        "/signin", data={"username": "alice", "password": PASSWORD}, follow_redirects=False
    )
    assert r.status_code == 403 and "pw_session" not in r.headers.get("set-cookie", "")


def test_wrong_or_foreign_csrf_token_is_refused(web, db):
    (rec,) = make_papers(db, 1)
    make_user(db, "alice")
    make_user(db, "eve")
    signin(web, "alice")
    token = csrf(web, "/profile")
    wrong = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert (
        web.post(
            f"/papers/{rec.id}/upvote", data={"csrf_token": wrong}, follow_redirects=False
        ).status_code
        == 403
    )
    # A valid token of another browser (the attacker's own) does not fit this browser.
    eve = new_client(web.app)
    signin(eve, "eve")
    eves = csrf(eve, "/profile")
    assert (
        web.post(
            f"/papers/{rec.id}/upvote", data={"csrf_token": eves}, follow_redirects=False
        ).status_code
        == 403
    )
    # The matching token works, in a form field or the X-CSRF-Token header.
    assert (
        web.post(
            f"/papers/{rec.id}/upvote", data={"csrf_token": token}, follow_redirects=False
        ).status_code
        == 303
    )
    assert (
        web.post(
            f"/papers/{rec.id}/upvote", headers={"x-csrf-token": token}, follow_redirects=False
        ).status_code
        == 303
    )


def test_token_from_before_sign_in_is_refused_after_it(web, db):
    """The token is bound to the session: a login-CSRF'd or stale page cannot post."""
    (rec,) = make_papers(db, 1)
    make_user(db, "alice")
    anonymous_token = csrf(web, "/signin")
    signin(web, "alice")
    r = web.post(
        f"/papers/{rec.id}/upvote", data={"csrf_token": anonymous_token}, follow_redirects=False
    )
    assert r.status_code == 403


def test_multipart_forms_carry_the_token_too(web, db):
    (rec,) = make_papers(db, 1)
    make_user(db, "alice")
    signin(web, "alice")
    token = csrf(web, "/profile")
    r = web.post(
        f"/papers/{rec.id}/upvote",
        files={"csrf_token": (None, token)},
        headers={"accept": "application/json"},
    )
    assert r.status_code == 200 and r.json()["upvotes"] == 1


def test_api_with_bearer_token_needs_no_csrf_but_cookies_alone_do_not_authenticate(web, db):
    (rec,) = make_papers(db, 1)
    user = make_user(db, "alice")
    signin(web, "alice")  # the browser has a session cookie...
    r = web.post(f"/api/papers/{rec.id}/upvote")
    assert r.status_code == 401  # ...which the API ignores: no cross-site writes through it
    r = web.post(f"/api/papers/{rec.id}/upvote", headers=bearer(token_for(db, user)))
    assert r.status_code == 200 and r.json()["upvotes"] == 1


# --- headers and cookies -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/signin", "/api/daily_papers", "/nowhere"])
def test_security_headers_on_every_response(web, path):
    r = web.get(path)
    csp = r.headers["content-security-policy"]
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert r.headers["x-frame-options"] == "DENY"


def test_pages_have_no_inline_script(web, db):
    make_papers(db, 2)
    make_user(db, "alice")
    signin(web, "alice")
    for path in ("/", "/signin", "/signup", "/profile", "/submit"):
        html = web.get(path).text
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag, (path, tag)
        assert not re.search(r"<script\b[^>]*>\s*[^<\s]", html), path
        assert not re.search(r"\son[a-z]+=\"", html), path  # no inline event handlers


def test_session_and_csrf_cookies_are_httponly_lax(web, db):
    r = web.get("/signin")
    csrf_cookie = r.headers["set-cookie"]
    assert (
        csrf_cookie.startswith("pw_csrf=")
        and "HttpOnly" in csrf_cookie
        and "SameSite=Lax" in csrf_cookie
    )
    assert "Secure" not in csrf_cookie
    make_user(db, "alice")
    session_cookie = signin(web, "alice").headers["set-cookie"]
    assert "HttpOnly" in session_cookie and "samesite=lax" in session_cookie.lower()


def test_secure_cookies_and_hsts_behind_https(settings, db):
    make_user(db, "alice")
    app = make_app(settings, db, secure_cookies=True)
    with TestClient(app, base_url="https://testserver") as client:
        r = client.get("/signin")
        assert "Secure" in r.headers["set-cookie"]
        assert r.headers["strict-transport-security"].startswith("max-age=")
        cookie = signin(client, "alice").headers["set-cookie"]
        assert "Secure" in cookie


def test_signed_in_pages_are_not_cached_and_stale_cookie_is_cleared(web, db):
    # Every page carries a CSRF token bound to the browser: shared caches must key on cookies.
    assert "Cookie" in web.get("/").headers["vary"]
    make_user(db, "alice")
    signin(web, "alice")
    assert web.get("/").headers["cache-control"] == "private, no-store"
    stranger = new_client(web.app)
    stranger.cookies.set("pw_session", "made-up-session-id")
    r = stranger.get("/")
    assert r.status_code == 200 and 'pw_session=""' in r.headers["set-cookie"]


# --- rate limits ---------------------------------------------------------------------------


@pytest.fixture
def limited(settings, db):
    app = make_app(settings, db, rate_limit_per_minute=3)
    with TestClient(app) as client:
        yield client


def test_signin_attempts_are_rate_limited(limited, db):
    make_user(db, "alice")
    statuses = []
    for _ in range(4):
        r = post_form(
            limited,
            "/signin",
            {"username": "alice", "password": "wrong password"},
            token_from="/signin",
        )
        statuses.append(r.status_code)
    assert statuses == [400, 400, 400, 429]
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert "too many signin attempts" in r.text
    # Even the right password waits: the limit is checked before the password.
    r = post_form(
        limited, "/signin", {"username": "alice", "password": PASSWORD}, token_from="/signin"
    )
    assert r.status_code == 429


def test_signups_are_rate_limited(limited):
    statuses = [
        post_form(
            limited,
            "/signup",
            {"username": f"user{i}", "password": PASSWORD, "password_confirm": PASSWORD},
            token_from="/signup",
        ).status_code
        for i in range(4)
    ]
    assert statuses == [303, 303, 303, 429]


def test_votes_and_comments_are_rate_limited_per_user(limited, db):
    recs = make_papers(db, 4)
    make_user(db, "alice")
    signin(limited, "alice")
    token = csrf(limited, "/profile")
    votes = [
        limited.post(
            f"/papers/{r.id}/upvote",
            data={"csrf_token": token},
            headers={"accept": "application/json"},
        )
        for r in recs
    ]
    assert [v.status_code for v in votes] == [200, 200, 200, 429]
    assert votes[-1].json()["error"] == "rate_limited" and "retry-after" in votes[-1].headers
    comments = [
        limited.post(
            f"/papers/{recs[0].id}/comments",
            data={"csrf_token": token, "body": f"c{i}"},
            follow_redirects=False,
        )
        for i in range(4)
    ]
    assert [c.status_code for c in comments] == [303, 303, 303, 429]


def test_api_writes_are_rate_limited(limited, db):
    recs = make_papers(db, 4)
    user = make_user(db, "alice")
    headers = bearer(token_for(db, user))
    statuses = [
        limited.post(f"/api/papers/{r.id}/upvote", headers=headers).status_code for r in recs
    ]
    assert statuses == [200, 200, 200, 429]


def test_rate_limit_is_shared_by_all_workers(settings, db):
    """Two app instances (as two worker processes would be) on one database share the count."""
    make_user(db, "alice")
    first = TestClient(make_app(settings, db, rate_limit_per_minute=3))
    second = TestClient(make_app(settings, db, rate_limit_per_minute=3))
    statuses = []
    for client in (first, second, first, second):
        r = post_form(
            client,
            "/signin",
            {"username": "alice", "password": "wrong password"},
            token_from="/signin",
        )
        statuses.append(r.status_code)
    assert statuses == [400, 400, 400, 429]
