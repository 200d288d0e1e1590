"""Paper-page polish found in use (issue 14 D5): readable titles, versioned ids and pasted
arXiv URLs, "Next" that stops at the current period, the upvote asked for before signing in,
and a rate-limit page that says when to retry — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from paperwire.web import periods
from paperwire.web.errors import retry_text
from paperwire.web.paper_urls import canonical_id, search_target
from tests.factories import make_feed_papers, make_papers
from tests.web.accountkit import (  # noqa: F401
    PASSWORD,
    csrf,
    fast_hashing,
    make_app,
    make_user,
    post_form,
    signin,
    wapp,
    web,
)

# --- titles ----------------------------------------------------------------------------------


def test_title_and_description_show_math_as_readable_text(web, db):
    make_papers(
        db,
        1,
        id="2401.00010",
        title="$\\alpha$-stable laws in $\\mathbb{R}^2$",
        abstract="We bound $O(n^2)$ moments.",
    )
    html = web.get("/papers/2401.00010").text
    assert "<title>α-stable laws in R² · Paperwire</title>" in html
    assert 'content="We bound O(n²) moments."' in html
    assert "\\alpha" not in html.split("</head>")[0]


# --- ids, URLs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, target",
    [
        ("0704.0053v2", "0704.0053"),
        ("arXiv:0704.0053", "0704.0053"),
        ("https://arxiv.org/abs/0704.0053v2", "0704.0053"),
        ("arxiv.org/pdf/2104.12255v3.pdf", "2104.12255"),
        ("hep-th/9901001v1", "hep-th/9901001"),
        ("0704.0053", None),  # canonical already: no redirect (no loop)
        ("hep-th/9901001", None),
        ("seed:abc", None),
        ("https://example.org/abs/0704.0053", None),
        ("", None),
    ],
)
def test_canonical_id_table(raw, target):
    assert canonical_id(raw) == target


@pytest.mark.parametrize(
    "q, target",
    [
        ("https://arxiv.org/abs/2104.12255v2", "/papers/2104.12255"),
        ("  arXiv:2104.12255 ", "/papers/2104.12255"),
        ("2104.12255", "/papers/2104.12255"),
        ("hep-th/9901001", "/papers/hep-th/9901001"),
        ("single-cell embeddings", None),
        ("arxiv transformers", None),
    ],
)
def test_search_target_table(q, target):
    assert search_target(q) == target


def test_versioned_ids_and_pasted_urls_lead_to_the_paper(web, db):
    make_papers(db, 1, id="0704.0053", title="A paper")
    for path in (
        "/papers/0704.0053v2",
        "/papers/arXiv:0704.0053",
        "/papers/https://arxiv.org/abs/0704.0053v2",
    ):
        r = web.get(path, follow_redirects=False)
        assert r.status_code == 301 and r.headers["location"] == "/papers/0704.0053", path
    assert web.get("/papers/0704.0053v2").status_code == 200
    api = web.get("/api/papers/0704.0053v1", follow_redirects=False)
    assert api.status_code == 308 and api.headers["location"] == "/api/papers/0704.0053"
    assert web.get("/api/papers/0704.0053v1").json()["id"] == "0704.0053"


def test_search_for_a_pasted_arxiv_url_goes_to_the_paper(web, db):
    make_papers(db, 1, id="2104.12255")
    r = web.get(
        "/search", params={"q": "https://arxiv.org/abs/2104.12255v3"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/papers/2104.12255"


def test_an_unknown_arxiv_paper_offers_to_fetch_it(web, db):
    r = web.get("/papers/https://arxiv.org/abs/2312.99999v1")
    assert r.status_code == 404
    assert "arXiv:2312.99999 is not here yet" in r.text
    assert 'action="/submit"' in r.text and 'value="2312.99999"' in r.text
    # the offer leads (through sign-in) to the filled-in submit form; nothing is fetched yet
    r = web.get("/submit?paper=2312.99999", follow_redirects=False)
    assert r.headers["location"] == "/signin?next=%2Fsubmit%3Fpaper%3D2312.99999"
    assert web.get("/papers/seed:nothing").status_code == 404  # not arXiv: plain 404


def test_submit_form_is_filled_in_from_the_offer(wapp, db):
    make_user(db, "alice")
    with TestClient(wapp) as c:
        signin(c, "alice")
        assert 'value="2312.99999"' in c.get("/submit?paper=2312.99999").text


# --- week and month navigation ---------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, start, today, expected",
    [
        ("week", dt.date(2026, 11, 30), dt.date(2026, 12, 7), dt.date(2026, 12, 7)),
        ("week", dt.date(2026, 12, 7), dt.date(2026, 12, 7), None),  # the current week
        ("week", dt.date(2026, 12, 7), dt.date(2026, 12, 13), None),
        ("week", dt.date(2027, 1, 4), dt.date(2026, 12, 7), None),  # a future week
        ("month", dt.date(2026, 11, 1), dt.date(2026, 12, 7), dt.date(2026, 12, 1)),
        ("month", dt.date(2026, 12, 1), dt.date(2026, 12, 31), None),  # the current month
        ("month", dt.date(9999, 12, 1), dt.date(9999, 12, 31), None),  # the end of time
    ],
)
def test_next_period_stops_at_the_current_one(kind, start, today, expected):
    assert periods.next_start(kind, start, today) == expected


def test_week_and_month_pages_have_no_next_link_for_the_current_period(web, settings, db):
    today = periods.today(settings)
    make_feed_papers(db, 1, day=today)
    this_week = periods.week_of(today)
    page = web.get(f"/papers/week/{this_week}").text
    assert 'rel="next"' not in page and 'rel="prev"' in page
    last_week = periods.week_of(today - dt.timedelta(days=7))
    assert f'href="/papers/week/{this_week}"' in web.get(f"/papers/week/{last_week}").text
    this_month = periods.month_label(today)
    assert 'rel="next"' not in web.get(f"/papers/month/{this_month}").text


# --- the upvote asked for before signing in --------------------------------------------------


def _upvotes(db, pid):
    from paperwire.store.models import Paper

    with db.session() as s:
        return s.get(Paper, pid).upvotes


def test_anonymous_upvote_is_explained_and_counted_after_signing_in(wapp, db):
    make_papers(db, 1, id="2401.00020", title="Votes $v^2$")
    make_user(db, "alice")
    with TestClient(wapp) as c:
        r = post_form(c, "/papers/2401.00020/upvote", {}, token_from="/papers/2401.00020")
        assert r.status_code == 303
        assert r.headers["location"] == "/signin?next=%2Fpapers%2F2401.00020"
        assert _upvotes(db, "2401.00020") == 0
        page = c.get(r.headers["location"]).text
        assert "Upvoting needs an account" in page and "<msup>" in page
        r = post_form(
            c,
            "/signin",
            {"username": "alice", "password": PASSWORD, "next": "/papers/2401.00020"},
            token_from="/signin",
        )
        assert r.status_code == 303 and r.headers["location"] == "/papers/2401.00020"
        assert _upvotes(db, "2401.00020") == 1
        # used once: signing in again counts nothing more, and the page shows the vote
        assert "pw_vote_intent" not in c.cookies
        assert 'aria-pressed="true"' in c.get("/papers/2401.00020").text


def test_anonymous_upvote_is_counted_after_signing_up(wapp, db):
    make_papers(db, 1, id="2401.00021")
    with TestClient(wapp) as c:
        post_form(c, "/papers/2401.00021/upvote", {}, token_from="/papers/2401.00021")
        assert "Upvoting needs an account" in c.get("/signup").text
        r = post_form(
            c,
            "/signup",
            {"username": "newbie", "password": PASSWORD, "password_confirm": PASSWORD},
            token_from="/signup",
        )
        assert r.status_code == 303
    assert _upvotes(db, "2401.00021") == 1


def test_a_forged_or_foreign_vote_intent_counts_nothing(wapp, db, settings):
    make_papers(db, 1, id="2401.00022")
    make_user(db, "alice")
    with TestClient(wapp) as c:
        c.cookies.set("pw_vote_intent", "eyJ1cHZvdGUiOiIyNDAxLjAwMDIyIn0.forged.sig")
        signin(c, "alice")
    # an anonymous upvote POST without the CSRF token is refused and remembers nothing
    with TestClient(wapp) as c:
        r = c.post("/papers/2401.00022/upvote", follow_redirects=False)
        assert r.status_code == 403 and "pw_vote_intent" not in r.cookies
    assert _upvotes(db, "2401.00022") == 0


def test_anonymous_vote_from_the_page_script_gets_401_and_is_remembered(wapp, db):
    make_papers(db, 1, id="2401.00023")
    make_user(db, "alice")
    with TestClient(wapp) as c:
        token = csrf(c, "/papers/2401.00023")
        r = c.post(
            "/papers/2401.00023/upvote",
            headers={"Accept": "application/json", "X-CSRF-Token": token},
        )
        assert r.status_code == 401 and "upvoting needs an account" in r.json()["detail"]
        signin(c, "alice")
    assert _upvotes(db, "2401.00023") == 1


# --- rate limits -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "seconds, text",
    [
        (1, "in 1 second (at 10:00:01 UTC)"),
        (45, "in 45 seconds (at 10:00:45 UTC)"),
        (120, "in about 2 minutes (at 10:02 UTC)"),
        (7200, "in about 2 hours (at 2026-12-07 12:00 UTC)"),
    ],
)
def test_retry_text_table(seconds, text):
    now = dt.datetime(2026, 12, 7, 10, 0, 0, tzinfo=dt.UTC)
    assert retry_text(seconds, now) == text


def test_rate_limited_action_says_when_to_retry(settings, db):
    make_papers(db, 1, id="2401.00030")
    make_user(db, "alice")
    app = make_app(settings, db, rate_limit_per_minute=1)
    with TestClient(app) as c:
        signin(c, "alice")
        post_form(
            c, "/papers/2401.00030/comments", {"body": "one"}, token_from="/papers/2401.00030"
        )
        r = post_form(
            c, "/papers/2401.00030/comments", {"body": "two"}, token_from="/papers/2401.00030"
        )
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert "You can try again in" in r.text and "UTC)" in r.text
