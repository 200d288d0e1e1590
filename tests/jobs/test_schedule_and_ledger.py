"""The schedule (pure) and the job ledger (one winner per name + key)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from paperwire.jobs.runner import run_job
from paperwire.jobs.schedule import due
from paperwire.store import jobs

UTC = dt.UTC


@pytest.mark.parametrize(
    "now,tz,expected_digests",
    [
        (dt.datetime(2026, 11, 26, 6, 59, tzinfo=UTC), "UTC", []),
        (dt.datetime(2026, 11, 26, 7, 0, tzinfo=UTC), "UTC", ["daily:2026-11-26"]),
        (dt.datetime(2026, 11, 26, 23, 0, tzinfo=UTC), "UTC", ["daily:2026-11-26"]),  # catch-up
        (dt.datetime(2026, 11, 28, 9, 0, tzinfo=UTC), "UTC", []),  # Saturday
        (dt.datetime(2026, 11, 30, 7, 15, tzinfo=UTC), "UTC", ["daily:2026-11-30"]),  # Monday
        (
            dt.datetime(2026, 11, 30, 7, 30, tzinfo=UTC),
            "UTC",
            ["daily:2026-11-30", "weekly:2026-11-30"],
        ),
        # 06:00 UTC is 07:00 in Berlin (CET): the local time counts.
        (dt.datetime(2026, 11, 26, 6, 0, tzinfo=UTC), "Europe/Berlin", ["daily:2026-11-26"]),
        (dt.datetime(2026, 11, 26, 5, 59, tzinfo=UTC), "Europe/Berlin", []),
    ],
)
def test_digests_are_due_at_local_times_on_the_right_days(settings, now, tz, expected_digests):
    s = dataclasses.replace(settings, timezone=tz)
    assert [k for n, k in due(now, s) if n == "digest"] == expected_digests


@pytest.mark.parametrize(
    "minute,slot", [(0, "T10:00"), (4, "T10:00"), (5, "T10:05"), (59, "T10:55")]
)
def test_embed_runs_every_interval(settings, minute, slot):
    now = dt.datetime(2026, 11, 26, 10, minute, tzinfo=UTC)
    assert ("embed", f"2026-11-26{slot}") in due(now, settings)


@pytest.mark.parametrize(
    "minute,slot", [(0, "T10:00"), (14, "T10:00"), (15, "T10:15"), (59, "T10:45")]
)
def test_notification_mail_is_batched_every_interval(settings, minute, slot):
    now = dt.datetime(2026, 11, 26, 10, minute, tzinfo=UTC)
    assert ("notify-mail", f"2026-11-26{slot}") in due(now, settings)
    off = dataclasses.replace(settings, scheduled_jobs="harvest,embed")
    assert not [j for j in due(now, off) if j[0] == "notify-mail"]


def test_notify_mail_job_sends_once_per_slot(settings, db):
    from paperwire.digest.outbox import list_messages, outbox_dir
    from paperwire.services import discussion
    from paperwire.store import notifications as notes
    from tests.factories import make_papers, make_store_user

    settings = dataclasses.replace(settings, mail_transport="outbox")
    paper = make_papers(db, 1)[0]
    alice = make_store_user(db, "alice", email="alice@example.org")
    bob = make_store_user(db, "bob")
    with db.session() as s:
        notes.confirm_email(s, alice.id, 0, "alice@example.org")
    discussion.post_comment(db, bob, paper.id, "@alice see this")
    assert run_job(settings, db, "notify-mail", "2026-11-26T10:15") == "ok"
    assert run_job(settings, db, "notify-mail", "2026-11-26T10:15") == "skipped"
    assert len(list_messages(outbox_dir(settings))[0]) == 1


def test_harvest_once_a_day_after_its_time(settings):
    assert not [
        j for j in due(dt.datetime(2026, 11, 26, 1, 59, tzinfo=UTC), settings) if j[0] == "harvest"
    ]
    assert ("harvest", "2026-11-26") in due(dt.datetime(2026, 11, 26, 2, 0, tzinfo=UTC), settings)


def test_only_one_start_wins(db):
    with db.session() as s:
        first = jobs.start(s, "digest", "daily:2026-11-26", "w1")
    with db.session() as s:
        second = jobs.start(s, "digest", "daily:2026-11-26", "w2")
    assert first is not None and second is None


def test_a_failed_job_may_run_again_a_finished_one_not(db):
    with db.session() as s:
        rid = jobs.start(s, "cleanup", "k", "w1")
        jobs.finish(s, rid, ok=False, error="boom")
    with db.session() as s:
        assert jobs.start(s, "cleanup", "k", "w2") == rid
        jobs.finish(s, rid, ok=True, detail="fine")
    with db.session() as s:
        assert jobs.start(s, "cleanup", "k", "w3") is None
        run = jobs.recent(s)[0]
        assert (run.status, run.attempts, run.error) == ("ok", 2, None)


def test_run_job_records_outcome_and_is_idempotent(settings, db):
    assert run_job(settings, db, "cleanup", "2026-11-26T10") == "ok"
    assert run_job(settings, db, "cleanup", "2026-11-26T10") == "skipped"
    with db.session() as s:
        [run] = jobs.recent(s)
        assert run.status == "ok" and "expired sessions" in run.detail


def test_cleanup_removes_never_confirmed_subscriptions_after_the_link_expired(settings, db):
    from paperwire.store.models import Subscription, utcnow
    from tests.factories import make_subscription

    old = make_subscription(db, "old@example.org", status="pending")
    new = make_subscription(db, "new@example.org", status="pending")
    active = make_subscription(db, "act@example.org")
    with db.session() as s:
        for sid in (old, active):
            s.get(Subscription, sid).created_at = utcnow() - dt.timedelta(days=30)
    run_job(settings, db, "cleanup", "x")
    with db.session() as s:
        assert s.get(Subscription, old) is None
        assert s.get(Subscription, new) is not None and s.get(Subscription, active) is not None


def test_cleanup_removes_expired_sessions_and_day_old_rate_events_only(settings, db):
    from paperwire.store import ratelimit, users
    from paperwire.store.models import RateEvent, utcnow
    from paperwire.store.models import Session as BrowserSession
    from tests.web.accountkit import make_user

    uid = make_user(db, "alice").id
    now = utcnow()
    with db.session() as s:
        users.create_session(s, uid, "expired", now - dt.timedelta(minutes=1))
        users.create_session(s, uid, "live", now + dt.timedelta(days=1))
        s.add(RateEvent(key="signin:x", at=now - dt.timedelta(days=2)))
        s.add(RateEvent(key="signin:x", at=now - dt.timedelta(hours=1)))
    run_job(settings, db, "cleanup", "x")
    with db.session() as s:
        from sqlalchemy import select

        assert set(s.scalars(select(BrowserSession.id_hash))) == {"live"}
        assert [e.at for e in s.scalars(select(RateEvent))] == [now - dt.timedelta(hours=1)]
        assert ratelimit.delete_before(s, now) == 1


def test_a_failing_job_is_recorded_with_its_error(settings, db, capsys):
    from click.testing import CliRunner

    from paperwire.cli import main

    # A digest for a date that is not a date fails inside the job, and is shown by `jobs`.
    assert run_job(settings, db, "digest", "daily:not-a-date") == "failed"
    env = {
        "PAPERWIRE_DATABASE_URL": settings.database_url,
        "PAPERWIRE_DATA_DIR": str(settings.data_dir),
    }
    out = CliRunner().invoke(main, ["jobs", "--failed"], env=env).output
    assert "digest" in out and "daily:not-a-date" in out and "error:" in out
