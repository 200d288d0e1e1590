"""The nightly `recommend` job: due once a day at RECOMMEND_TIME, and it stores every member's
recommendations."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from paperwire.jobs.runner import run_job
from paperwire.jobs.schedule import due

UTC = dt.UTC


@pytest.mark.parametrize(
    "hour,minute,expected",
    [
        (2, 59, []),
        (3, 0, ["2026-11-26"]),
        (23, 0, ["2026-11-26"]),
    ],
)
def test_recommend_is_due_daily_after_its_time(settings, hour, minute, expected):
    now = dt.datetime(2026, 11, 26, hour, minute, tzinfo=UTC)
    assert [k for n, k in due(now, settings) if n == "recommend"] == expected


def test_recommend_can_be_left_out_of_the_schedule(settings):
    s = dataclasses.replace(settings, scheduled_jobs="harvest,embed")
    assert not [
        j for j in due(dt.datetime(2026, 11, 26, 4, 0, tzinfo=UTC), s) if j[0] == "recommend"
    ]


def test_the_job_stores_recommendations_once_per_key(settings, db):
    from paperwire.services import recommendations as service
    from paperwire.store import library
    from paperwire.store.recommendations import stored_recommendations
    from paperwire.web import auth
    from tests.recommend.store_kit import ids_of, load_sample

    service.clear_pools()
    sample = load_sample(db)
    user = auth.create_user(db, "alice", "correct horse battery")
    with db.session() as s:
        for pid in ids_of(sample, "cs.IR", old=True):
            library.save_paper(s, user.id, pid)
    s2 = dataclasses.replace(settings, recommend_negatives=100)
    assert run_job(s2, db, "recommend", "2026-11-26") == "ok"
    assert run_job(s2, db, "recommend", "2026-11-26") == "skipped"
    with db.session() as s:
        assert len(stored_recommendations(s, user.id)[2]) == s2.recommend_limit
    service.clear_pools()
