"""store.feed.trending on SQLite and PostgreSQL."""

import datetime as dt

from sqlalchemy import update

from paperwire.store.feed import add_feed_entry, trending
from paperwire.store.models import Paper
from tests.factories import make_papers

NOW = dt.datetime(2026, 11, 26, 12, 0)


def _put(db, day, submitted_at, upvotes=0, comments=0, hidden=False):
    (rec,) = make_papers(db, 1)
    with db.session() as s:
        add_feed_entry(s, rec.id, day, submitted_at=submitted_at)
        s.execute(
            update(Paper)
            .where(Paper.id == rec.id)
            .values(upvotes=upvotes, num_comments=comments, hidden=hidden)
        )
    return rec.id


def test_trending_orders_by_decayed_score_and_filters_days(db):
    today, yesterday = NOW.date(), NOW.date() - dt.timedelta(days=1)
    fresh = _put(db, today, NOW - dt.timedelta(hours=1), upvotes=5)
    old_popular = _put(db, yesterday, NOW - dt.timedelta(hours=30), upvotes=6)
    fresh_none = _put(db, today, NOW - dt.timedelta(hours=2), upvotes=0)
    _put(db, today, NOW - dt.timedelta(hours=1), upvotes=100, hidden=True)
    with db.session() as s:
        rows = trending(s, start=None, end=None, now=NOW, limit=10)
        assert [p.id for p, _, _ in rows] == [fresh, fresh_none, old_popular]
        scores = [score for _, _, score in rows]
        assert scores == sorted(scores, reverse=True)
        assert all(e.paper_id == p.id for p, e, _ in rows)
        only_today = trending(s, start=today, end=today, now=NOW, limit=10)
        assert [p.id for p, _, _ in only_today] == [fresh, fresh_none]
        assert [p.id for p, _, _ in trending(s, start=None, end=yesterday, now=NOW, limit=10)] == [
            old_popular
        ]


def test_trending_pages_do_not_overlap(db):
    day = NOW.date()
    ids = {_put(db, day, NOW - dt.timedelta(hours=3), upvotes=v % 3) for v in range(7)}
    with db.session() as s:
        seen = []
        for offset in range(0, 8, 3):
            seen += [
                p.id for p, _, _ in trending(s, start=day, end=day, now=NOW, limit=3, offset=offset)
            ]
        assert sorted(seen) == sorted(ids)
        assert trending(s, start=day, end=day, now=NOW, limit=0) == []
        assert trending(s, start=day, end=day, now=NOW, limit=5, offset=50) == []
