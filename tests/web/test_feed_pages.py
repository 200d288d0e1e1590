"""The feed pages: /, /papers?date=, week, month, /trending — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import update

from paperwire.store.models import Paper, User
from paperwire.web.appcontext import app_context
from paperwire.web.periods import today as site_today
from tests.factories import make_feed_papers, make_papers
from tests.web.readkit import app, as_user, client, count_statements  # noqa: F401


def _titles_in_order(html: str) -> list[str]:
    return re.findall(r'class="card-title" id="[^"]+">\s*<a href="/papers/([^"]+)"', html)


def test_home_shows_todays_papers_ranked_by_upvotes(client, settings, db):
    today = site_today(settings)
    recs = make_feed_papers(db, 3, day=today, upvotes=[3, 10, 7])
    make_feed_papers(db, 1, day=today - dt.timedelta(days=1), upvotes=99)
    make_papers(db, 1)  # not on the feed
    resp = client.get("/")
    assert resp.status_code == 200
    assert _titles_in_order(resp.text) == [recs[1].id, recs[2].id, recs[0].id]
    assert "3 papers" in resp.text
    assert 'href="/papers?date=' + str(today - dt.timedelta(days=1)) + '"' in resp.text
    assert "latest day with papers" not in resp.text


def test_home_falls_back_to_latest_day_with_entries(client, settings, db):
    day = site_today(settings) - dt.timedelta(days=4)
    (rec,) = make_feed_papers(db, 1, day=day)
    resp = client.get("/")
    assert resp.status_code == 200
    assert _titles_in_order(resp.text) == [rec.id]
    assert "showing the latest day with papers" in resp.text


def test_empty_database_shows_helpful_empty_feed(client):
    resp = client.get("/")
    assert resp.status_code == 200
    assert "No papers here yet" in resp.text
    assert 'action="/subscribe"' in resp.text


def test_day_page_has_previous_and_next_days_that_have_papers(client, db):
    d1, d2, d3 = dt.date(2025, 3, 3), dt.date(2025, 3, 5), dt.date(2025, 3, 9)
    for d in (d1, d2, d3):
        make_feed_papers(db, 1, day=d)
    html = client.get(f"/papers?date={d2}").text
    assert f'rel="prev" href="/papers?date={d1}"' in html
    assert f'rel="next" href="/papers?date={d3}"' in html
    first = client.get(f"/papers?date={d1}").text
    assert 'rel="prev"' not in first.split('class="feed"')[0]


def test_week_and_month_views_cover_exactly_their_period(client, db):
    monday = dt.date(2025, 3, 3)  # 2025-W10
    inside = make_feed_papers(db, 2, day=monday + dt.timedelta(days=6), upvotes=[1, 2])
    before = make_feed_papers(db, 1, day=monday - dt.timedelta(days=1))  # Sunday, March 2
    february = make_feed_papers(db, 1, day=dt.date(2025, 2, 28))
    week = client.get("/papers/week/2025-W10")
    assert week.status_code == 200
    assert _titles_in_order(week.text) == [inside[1].id, inside[0].id]
    assert (
        'href="/papers/week/2025-W09"' in week.text and 'href="/papers/week/2025-W11"' in week.text
    )
    month = client.get("/papers/month/2025-03")
    assert set(_titles_in_order(month.text)) == {r.id for r in inside + before}
    feb = client.get("/papers/month/2025-02")
    assert _titles_in_order(feb.text) == [february[0].id]
    assert "March 2025" in month.text and 'href="/papers/month/2025-04"' in month.text


def test_trending_page_orders_by_decayed_score(client, settings, db):
    today = site_today(settings)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    (old,) = make_feed_papers(
        db, 1, day=today - dt.timedelta(days=5), upvotes=12, submitted_at=now - dt.timedelta(days=5)
    )
    (fresh,) = make_feed_papers(
        db, 1, day=today, upvotes=4, submitted_at=now - dt.timedelta(hours=2)
    )
    html = client.get("/trending").text
    assert _titles_in_order(html) == [fresh.id, old.id]
    day_only = client.get("/trending?window=day").text
    assert _titles_in_order(day_only) == [fresh.id]


def test_hidden_papers_are_not_on_the_feed(client, settings, db):
    today = site_today(settings)
    (shown,) = make_feed_papers(db, 1, day=today)
    make_feed_papers(db, 1, day=today, hidden=True, upvotes=50)
    assert _titles_in_order(client.get("/").text) == [shown.id]
    assert _titles_in_order(client.get("/trending").text) == [shown.id]


def test_card_shows_math_authors_categories_votes_and_comments(client, settings, db):
    today = site_today(settings)
    authors = [{"name": f"Author {i}", "affiliations": []} for i in range(7)]
    make_feed_papers(
        db,
        1,
        day=today,
        upvotes=42,
        num_comments=3,
        title="scE$^2$TM: toward <b>better</b> topics",
        authors=authors,
        categories=["cs.CL", "cs.LG"],
        submitted_by_name="akhaliq",
    )
    html = client.get("/").text
    assert "<math" in html and "<msup>" in html
    assert "&lt;b&gt;better&lt;/b&gt;" in html and "<b>better</b>" not in html
    # Each shown author links to their author page.
    assert "Author 0, Author 1, Author 2, Author 3 and 3 more" in re.sub(r"<[^>]+>", "", html)
    assert '<a class="author-link" href="/authors/Author%200">Author 0</a>' in html
    assert ">cs.CL</a>" in html and ">cs.LG</a>" in html
    assert '<span class="upvote-count">42</span>' in html
    assert "3 comments" in html and "submitted by akhaliq" in html
    # The upvote button is a real form that works without JavaScript.
    assert re.search(r'<form class="upvote" action="/papers/[^"]+/upvote" method="post">', html)


def test_seed_style_paper_with_only_an_author_count(client, settings, db):
    make_feed_papers(db, 1, day=site_today(settings), authors=[], author_count=12)
    assert "12 authors" in client.get("/").text


def test_signed_in_user_sees_own_upvotes_and_csrf_fields(app, client, settings, db):
    today = site_today(settings)
    recs = make_feed_papers(db, 2, day=today, upvotes=[5, 1])
    from paperwire.store.models import Upvote

    with db.session() as s:
        user = User(username="ada", password_hash="x")
        s.add(user)
        s.flush()
        s.add(Upvote(user_id=user.id, paper_id=recs[1].id))
    as_user(app, user)
    html = client.get("/").text
    assert 'href="/profile"' in html and "Sign out" in html
    assert html.count('aria-pressed="true"') == 1
    assert 'name="csrf_token" value="test-csrf-token"' in html
    as_user(app, None)
    anon = client.get("/").text
    assert "Sign in" in anon and 'aria-pressed="true"' not in anon


@pytest.mark.parametrize(
    "url,status,needle",
    [
        ("/papers?date=2025-13-01", 400, "YYYY-MM-DD"),
        ("/papers?date=yesterday", 400, "YYYY-MM-DD"),
        ("/papers/week/2025-W60", 400, "ISO week"),
        ("/papers/week/banana", 400, "ISO week"),
        ("/papers/month/2025-00", 400, "YYYY-MM"),
        ("/papers?sort=random", 400, "sort must be one of"),
        ("/papers?p=0", 422, "p:"),
        ("/papers?p=abc", 422, "p:"),
        ("/trending?window=decade", 400, "window must be one of"),
    ],
)
def test_bad_feed_parameters_get_a_clear_error_page_never_500(client, url, status, needle):
    resp = client.get(url)
    assert resp.status_code == status
    assert "text/html" in resp.headers["content-type"]
    assert needle in resp.text


def test_pagination_splits_a_day_without_overlap(client, settings, db):
    settings_page = app_context(client.app).settings.feed_page_size
    today = site_today(settings)
    n = settings_page + 5
    recs = make_feed_papers(db, n, day=today, upvotes=list(range(n)))
    first = _titles_in_order(client.get("/").text)
    page2 = client.get(f"/papers?date={today}&p=2")
    second = _titles_in_order(page2.text)
    assert len(first) == settings_page and len(second) == 5
    assert set(first) | set(second) == {r.id for r in recs}
    assert 'rel="prev"' in page2.text


def test_feed_page_runs_a_constant_number_of_statements(client, settings, db):
    """N+1 guard: 3 papers and 25 papers cost the same number of SQL statements."""
    today = site_today(settings)
    make_feed_papers(db, 3, day=today, upvotes=1)
    with count_statements(db) as few:
        assert client.get("/").status_code == 200
    make_feed_papers(db, 22, day=today, upvotes=2)
    with count_statements(db) as many:
        assert client.get("/").status_code == 200
    assert len(_titles_in_order(client.get("/").text)) == 25
    assert many["n"] == few["n"], many["sql"]
    with count_statements(db) as trending:
        client.get("/trending")
    make_feed_papers(db, 10, day=today, upvotes=3)
    with count_statements(db) as trending_more:
        client.get("/trending")
    assert trending["n"] == trending_more["n"]


def test_page_cache_serves_anonymous_pages_until_invalidated(settings, db):
    import dataclasses

    from fastapi.testclient import TestClient

    from paperwire.web.app import create_app

    application = create_app(dataclasses.replace(settings, page_cache_seconds=60.0), db)
    today = site_today(settings)
    (rec,) = make_feed_papers(db, 1, day=today, upvotes=1)
    with TestClient(application) as c:
        assert '<span class="upvote-count">1</span>' in c.get("/").text
        with db.session() as s:
            s.execute(update(Paper).where(Paper.id == rec.id).values(upvotes=2))
        with count_statements(db) as cached:
            assert '<span class="upvote-count">1</span>' in c.get("/").text
        assert cached["n"] == 0
        app_context(application).cache.invalidate()
        assert '<span class="upvote-count">2</span>' in c.get("/").text


def test_cached_anonymous_page_carries_each_requests_own_csrf_token(settings, db):
    import dataclasses
    import itertools

    from fastapi.testclient import TestClient
    from starlette.middleware import Middleware
    from starlette.middleware.base import BaseHTTPMiddleware

    from paperwire.web.app import create_app

    application = create_app(dataclasses.replace(settings, page_cache_seconds=60.0), db)
    counter = itertools.count()

    async def token_per_request(request, call_next):
        request.state.user = None
        request.state.csrf_token = f"tok{next(counter)}"
        return await call_next(request)

    application.user_middleware.append(Middleware(BaseHTTPMiddleware, dispatch=token_per_request))
    make_feed_papers(db, 2, day=site_today(settings))
    with TestClient(application) as c:
        first, second = c.get("/").text, c.get("/").text
    assert 'name="csrf_token" value="tok0"' in first and "tok1" not in first
    assert 'name="csrf_token" value="tok1"' in second and "tok0" not in second
    assert "placeholder__" not in first
