"""Sending an edition over a real SMTP server (aiosmtpd on loopback), on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from paperwire.digest.send import send_edition
from paperwire.digest.transport import DirectoryTransport, SmtpConfig, SmtpTransport, open_transport
from paperwire.store.models import DigestDelivery, SentPaper, Subscription
from tests.digest.kit import daily, mail_settings, seed_day
from tests.factories import make_subscription
from tests.support.smtp_sink import SmtpSink, self_signed_context

TOPIC = [{"kind": "query", "value": '"single-cell" cat:q-bio.*', "threshold": None}]


@pytest.fixture
def sink():
    with SmtpSink() as s:
        yield s


def run(settings, db, ed=None, transport=None):
    ed = ed or daily()
    if transport is not None:
        return send_edition(settings, db, ed, transport, progress=False, sleep=lambda _s: None)
    with open_transport(settings) as t:
        return send_edition(settings, db, ed, t, progress=False, sleep=lambda _s: None)


def test_each_active_subscriber_gets_one_digest_and_a_rerun_sends_nothing(settings, db, sink):
    s = mail_settings(settings, sink)
    seed_day(db)
    make_subscription(db, "a@example.org", topics=TOPIC)
    make_subscription(db, "b@example.org")
    make_subscription(db, "pending@example.org", status="pending")
    make_subscription(db, "gone@example.org", status="unsubscribed")
    first = run(s, db)
    assert first.sent == 2 and sink.count == 2
    assert sorted(r for m in sink.messages for r in m.rcpt_tos) == [
        "a@example.org",
        "b@example.org",
    ]
    second = run(s, db)
    assert second.sent == 0 and sink.count == 2


def test_personal_part_says_which_topic_matched(settings, db, sink):
    s = mail_settings(settings, sink)
    _feed, cells = seed_day(db)
    make_subscription(db, "a@example.org", topics=TOPIC, max_papers=3)
    run(s, db)
    msg = sink.to("a@example.org")[0].message
    text = msg.get_body(("plain",)).get_content()
    assert "FOR YOUR TOPICS" in text
    assert text.count('Matched your topic “"single-cell" cat:q-bio.*” — by keyword') == 3
    assert all(f"/papers/{c.id}" in text for c in cells)


def test_a_paper_is_never_sent_twice_to_the_same_subscriber(settings, db, sink):
    s = mail_settings(settings, sink)
    seed_day(db)
    sid = make_subscription(db, "a@example.org", editions="both", topics=TOPIC)
    run(s, db)
    # The weekly edition covers the same day: nothing left that was not sent already.
    from paperwire.digest.edition import edition_for

    weekly = run(s, db, edition_for("weekly", daily().send_day))
    assert weekly.sent == 0 and weekly.skipped == 1
    with db.session() as session:
        ids = [
            r.paper_id
            for r in session.scalars(select(SentPaper).where(SentPaper.subscription_id == sid))
        ]
    assert len(ids) == len(set(ids)) == 9


def test_unsubscribed_between_planning_and_sending_gets_nothing(settings, db, sink):
    s = mail_settings(settings, sink)
    seed_day(db)
    sid = make_subscription(db, "a@example.org")
    from paperwire.store import deliveries

    with db.session() as session:
        deliveries.plan(session, "daily", daily().period, [sid])
        session.get(Subscription, sid).status = "unsubscribed"
    assert run(s, db).sent == 0 and sink.count == 0


def test_temporary_failures_are_retried_then_succeed(settings, db, sink):
    s = mail_settings(settings, sink)
    seed_day(db)
    make_subscription(db, "a@example.org")
    sink.script += ["451 4.3.0 try again later", "421 4.7.0 busy"]
    summary = run(s, db)
    assert summary.sent == 1 and sink.count == 1


def test_temporary_failure_that_persists_is_left_pending_for_the_next_run(settings, db, sink):
    s = mail_settings(settings, sink, digest_retry_attempts=1)
    seed_day(db)
    make_subscription(db, "a@example.org")
    sink.script += ["451 4.3.0 later"] * 2
    summary = run(s, db)
    assert summary.retry_later == 1 and not summary.complete and sink.count == 0
    with db.session() as session:
        row = session.scalar(select(DigestDelivery))
        assert row.status == "pending" and "451" in row.error
    assert run(s, db).sent == 1 and sink.count == 1


def test_permanent_failures_are_recorded_and_pause_after_repeats(settings, db, sink):
    s = mail_settings(settings, sink, digest_pause_after_failures=3)
    import datetime as dt

    from paperwire.digest.edition import edition_for

    sid = make_subscription(db, "bounce@example.org")
    days = [dt.date(2026, 11, 24), dt.date(2026, 11, 25), dt.date(2026, 11, 26)]
    for day in days:
        seed_day(db, day - dt.timedelta(days=1), n=2)
    statuses = []
    for day in days:
        sink.rcpt_script.append("550 5.1.1 no such user")
        summary = run(s, db, edition_for("daily", day))
        assert summary.failed == 1
        with db.session() as session:
            sub = session.get(Subscription, sid)
            statuses.append((sub.status, sub.failure_count))
            assert "550" in sub.last_error
    assert statuses == [("active", 1), ("active", 2), ("paused", 3)]
    with db.session() as session:
        rows = session.scalars(select(DigestDelivery)).all()
        assert {r.status for r in rows} == {"failed"}
        # Undelivered papers are free to go out in a later digest.
        assert session.scalar(select(SentPaper)) is None
    seed_day(db, dt.date(2026, 11, 26), n=2)
    assert run(s, db, edition_for("daily", dt.date(2026, 11, 27))).sent == 0


def test_success_resets_the_failure_count(settings, db, sink):
    s = mail_settings(settings, sink)
    seed_day(db)
    sid = make_subscription(db, "a@example.org")
    with db.session() as session:
        session.get(Subscription, sid).failure_count = 2
    run(s, db)
    with db.session() as session:
        assert session.get(Subscription, sid).failure_count == 0


def test_dry_run_writes_eml_files(settings, db, tmp_path):
    seed_day(db)
    make_subscription(db, "a@example.org")
    s = dataclasses.replace(settings, mail_from="news@paperwire.test")
    summary = run(s, db, transport=DirectoryTransport(tmp_path / "out"))
    files = list((tmp_path / "out").glob("*.eml"))
    assert summary.sent == 1 and len(files) == 1
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in files[0].read_bytes()


def test_starttls_with_auth(settings, db, tmp_path):
    server_ctx, client_ctx = self_signed_context(tmp_path)
    seed_day(db)
    make_subscription(db, "a@example.org")
    with SmtpSink(
        host="127.0.0.1", tls="starttls", ssl_context=server_ctx, user="mailer", password="s3cret"
    ) as tls_sink:
        s = mail_settings(settings, tls_sink)
        cfg = SmtpConfig(
            host="localhost",
            port=tls_sink.port,
            security="starttls",
            user="mailer",
            password="s3cret",
            ssl_context=client_ctx,
        )
        with SmtpTransport(cfg) as t:
            assert run(s, db, transport=t).sent == 1
        assert tls_sink.count == 1


def test_wrong_password_stops_the_run_and_loses_nothing(settings, db, tmp_path):
    from paperwire.digest.transport import TransportError

    server_ctx, client_ctx = self_signed_context(tmp_path)
    seed_day(db)
    make_subscription(db, "a@example.org")
    with SmtpSink(
        tls="starttls", ssl_context=server_ctx, user="mailer", password="s3cret"
    ) as tls_sink:
        s = mail_settings(settings, tls_sink)
        cfg = SmtpConfig(
            host="localhost",
            port=tls_sink.port,
            security="starttls",
            user="mailer",
            password="wrong",
            ssl_context=client_ctx,
        )
        with pytest.raises(TransportError, match="authentication"):
            with SmtpTransport(cfg) as t:
                run(s, db, transport=t)
        with db.session() as session:
            assert session.scalar(select(DigestDelivery.status)) == "pending"
        good = dataclasses.replace(cfg, password="s3cret")
        with SmtpTransport(good) as t:
            assert run(s, db, transport=t).sent == 1


@pytest.mark.parametrize(
    "url,expected",
    [
        (
            "smtp://u:p%40ss@mail.example.org:2525",
            ("mail.example.org", 2525, "starttls", "u", "p@ss"),
        ),
        ("smtps://u:p@mail.example.org", ("mail.example.org", 465, "tls", "u", "p")),
        ("smtp+plain://relay", ("relay", 25, "none", "", "")),
    ],
)
def test_smtp_url_forms(settings, url, expected):
    from paperwire.digest.transport import smtp_config

    c = smtp_config(dataclasses.replace(settings, smtp_url=url))
    assert (c.host, c.port, c.security, c.user, c.password) == expected


def test_bad_smtp_url_is_a_clear_error(settings):
    from paperwire.digest.transport import TransportError, smtp_config

    with pytest.raises(TransportError, match="unknown scheme"):
        smtp_config(dataclasses.replace(settings, smtp_url="http://x"))
