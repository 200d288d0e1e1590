"""services/submissions.py beyond what the /submit page and API tests cover."""

from __future__ import annotations

import datetime as dt

from paperwire.services.submissions import submit_paper, used_today
from tests.factories import make_papers
from tests.web.accountkit import fast_hashing, make_user  # noqa: F401


def test_used_today_counts_this_users_submissions_of_the_local_day(settings, db):
    now = dt.datetime(2026, 3, 4, 12, 0)
    ids = ["2603.00001", "2603.00002", "2603.00003"]
    for pid in ids:
        make_papers(db, 1, id=pid, published_at=now - dt.timedelta(days=1))
    alice, bob = make_user(db, "alice"), make_user(db, "bob")
    assert used_today(settings, db, alice, now=now) == 0
    submit_paper(settings, db, alice, ids[0], now=now)
    submit_paper(settings, db, alice, ids[1], now=now)
    submit_paper(settings, db, bob, ids[2], now=now)
    assert used_today(settings, db, alice, now=now) == 2
    assert used_today(settings, db, bob, now=now) == 1
    assert used_today(settings, db, alice, now=now + dt.timedelta(days=1)) == 0
