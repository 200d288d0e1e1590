"""Batched notification mail (digest/notify.py): one mail per member with what happened since
the last, through a real SMTP server on loopback and through the outbox; reruns and crashes
never double-send — on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import text

from paperwire.digest.notify import (
    MailItem,
    compose_notification_mail,
    describe,
    send_notifications,
)
from paperwire.digest.outbox import list_messages, outbox_dir
from paperwire.digest.transport import open_transport
from paperwire.services import discussion
from paperwire.store import notifications as notes
from tests.factories import make_papers, make_store_user
from tests.support.smtp_sink import SmtpSink


@pytest.fixture(autouse=True)
def _search_services():
    """Overrides the digest folder's autouse fixture: no search service is used here, so no
    model is loaded."""
    yield


def _member(db, name, *, mail=True):
    user = make_store_user(db, name, email=f"{name}@example.org")
    if mail:
        with db.session() as s:
            assert notes.confirm_email(s, user.id, 0, f"{name}@example.org")
    return user


def _outbox_settings(settings, **kw):
    return dataclasses.replace(
        settings,
        mail_transport="outbox",
        base_url="https://pw.test",
        mail_from="Paperwire <news@pw.test>",
        **kw,
    )


def _send(settings, db, **kw):
    with open_transport(settings) as t:
        return send_notifications(settings, db, t, progress=False, **kw)


def _outbox(settings):
    return list_messages(outbox_dir(settings))[0]


def test_replies_are_batched_into_one_mail_and_a_rerun_sends_nothing(settings, db):
    settings = _outbox_settings(settings)
    paper = make_papers(db, 1, title="Heavy tails")[0]
    alice, bob = _member(db, "alice"), _member(db, "bob")
    root = discussion.post_comment(db, alice, paper.id, "What about $\\alpha$?").view
    discussion.post_comment(db, bob, paper.id, "first answer", root.id)
    discussion.post_comment(db, bob, paper.id, "second answer, @alice", root.id)
    summary = _send(settings, db)
    assert (summary.planned, summary.sent) == (1, 1)
    [item] = _outbox(settings)
    assert "alice@example.org" in item.to
    assert item.subject == "2 new notifications on Paperwire"
    again = _send(settings, db)
    assert (again.planned, again.sent) == (0, 0) and len(_outbox(settings)) == 1
    discussion.post_comment(db, bob, paper.id, "third answer", root.id)
    assert _send(settings, db).sent == 1 and len(_outbox(settings)) == 2


def test_who_gets_mail(settings, db):
    """Only members who chose mail, at their proven address, about unread notifications."""
    settings = _outbox_settings(settings)
    paper = make_papers(db, 1)[0]
    talker = _member(db, "talker", mail=False)
    _member(db, "wants")
    _member(db, "quiet", mail=False)
    moved = _member(db, "moved")
    reader = _member(db, "reader")
    with db.session() as s:
        from paperwire.store.models import User

        s.get(User, moved.id).email = "elsewhere@example.org"  # unproven new address
    discussion.post_comment(db, talker, paper.id, "@wants @quiet @moved @reader look")
    with db.session() as s:
        notes.mark_read(s, reader.id)  # seen on the site already
    assert _send(settings, db).sent == 1
    [item] = _outbox(settings)
    assert "wants@example.org" in item.to


def test_mail_over_smtp_has_one_click_unsubscribe(settings, db):
    with SmtpSink() as sink:
        settings = dataclasses.replace(
            settings,
            smtp_url=sink.smtp_url,
            base_url="https://pw.test",
            mail_from="Paperwire <news@pw.test>",
        )
        paper = make_papers(db, 1, title="On $\\alpha$-stable laws")[0]
        alice, bob = _member(db, "alice"), _member(db, "bob")
        root = discussion.post_comment(db, alice, paper.id, "question").view
        discussion.post_comment(db, bob, paper.id, "the answer is $x^2$", root.id)
        assert _send(settings, db).sent == 1
        assert sink.wait_for(1)
        msg = sink.messages[0].message
    assert sink.messages[0].rcpt_tos == ["alice@example.org"]
    assert msg["Subject"] == "bob replied to your comment on “On α-stable laws”"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsub = msg["List-Unsubscribe"].strip("<>")
    assert unsub.startswith("https://pw.test/notifications/unsubscribe/")
    text = msg.get_body(("plain",)).get_content()
    assert "the answer is $x^2$" in text
    assert f"https://pw.test/papers/{paper.id}#comment-" in text
    from paperwire.services import notifications as service

    token = unsub.rsplit("/", 1)[1]
    assert service.unsubscribe(settings, db, token) is True
    discussion.post_comment(db, bob, paper.id, "more", root.id)
    with db.session() as s:
        assert not notes.recipient(s, alice.id)[2]
        assert notes.plan_mails(s) == 0


def test_temporary_smtp_failure_is_retried_by_the_next_run(settings, db):
    with SmtpSink() as sink:
        settings = dataclasses.replace(
            settings, smtp_url=sink.smtp_url, mail_from="Paperwire <news@pw.test>"
        )
        paper = make_papers(db, 1)[0]
        _alice, bob = _member(db, "alice"), _member(db, "bob")
        discussion.post_comment(db, bob, paper.id, "@alice hello")
        sink.script.append("451 4.3.0 try later")
        first = _send(settings, db)
        assert (first.sent, first.retry_later) == (0, 1)
        second = _send(settings, db)
        assert (second.planned, second.sent) == (0, 1)
        assert sink.wait_for(1) and len(sink.messages) == 1


class Crash(Exception):
    pass


def _crash(_mail_id):
    raise Crash("killed between the server's acceptance and the ledger's commit")


def test_crash_after_the_outbox_accepted_is_not_resent(settings, db):
    settings = _outbox_settings(settings, digest_sending_lease_seconds=0.0)
    paper = make_papers(db, 1)[0]
    _alice, bob = _member(db, "alice"), _member(db, "bob")
    discussion.post_comment(db, bob, paper.id, "@alice look")
    with pytest.raises(Crash):
        _send(settings, db, after_send=_crash, worker="host:1:dead")
    assert len(_outbox(settings)) == 1
    with db.session() as s:
        assert notes.counts(s) == {"sending": 1}
    rerun = _send(settings, db)
    assert (rerun.sent, rerun.resent) == (1, 0)  # the outbox knew the Message-ID
    assert len(_outbox(settings)) == 1
    with db.session() as s:
        assert notes.counts(s) == {"sent": 1}
    assert _send(settings, db).sent == 0


def test_crash_over_smtp_resends_the_same_mail_under_the_same_message_id(settings, db):
    with SmtpSink() as sink:
        settings = dataclasses.replace(
            settings,
            smtp_url=sink.smtp_url,
            mail_from="Paperwire <news@pw.test>",
            digest_sending_lease_seconds=0.0,
        )
        paper = make_papers(db, 1)[0]
        _alice, bob = _member(db, "alice"), _member(db, "bob")
        discussion.post_comment(db, bob, paper.id, "@alice look")
        with pytest.raises(Crash):
            _send(settings, db, after_send=_crash, worker="host:1:dead")
        rerun = _send(settings, db)
        assert (rerun.sent, rerun.resent) == (1, 1)
        assert _send(settings, db).sent == 0
        assert sink.wait_for(2)
    first, second = (m.message for m in sink.messages)
    assert first["Message-ID"] == second["Message-ID"]

    # The same mail; only the signing time inside the unsubscribe link is new (as digests').
    def text(m):
        return [
            line
            for line in m.get_body(("plain",)).get_content().splitlines()
            if not line.startswith("Stop these emails:")
        ]

    assert text(first) == text(second)


def test_a_live_claim_is_left_alone_within_its_lease(settings, db):
    settings = _outbox_settings(settings, digest_sending_lease_seconds=900.0)
    paper = make_papers(db, 1)[0]
    _alice, bob = _member(db, "alice"), _member(db, "bob")
    discussion.post_comment(db, bob, paper.id, "@alice look")
    with pytest.raises(Crash):
        _send(settings, db, after_send=_crash, worker="otherhost:1:x")
    assert _send(settings, db).sent == 0  # another machine's claim: wait for the lease
    with db.session() as s:
        assert notes.counts(s) == {"sending": 1}


def test_two_planners_racing_plan_one_mail(settings, db):
    import threading

    paper = make_papers(db, 1)[0]
    _alice, bob = _member(db, "alice"), _member(db, "bob")
    for i in range(3):
        discussion.post_comment(db, bob, paper.id, f"@alice look {i}")
    barrier, planned = threading.Barrier(2), []

    def plan():
        barrier.wait()
        with db.session() as s:
            planned.append(notes.plan_mails(s))

    threads = [threading.Thread(target=plan) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(planned) == [0, 1]
    with db.session() as s:
        assert notes.counts(s) == {"pending": 1}
        [mail_id] = list(s.scalars(text("SELECT id FROM notification_mails")))
        assert len(notes.mail_contents(s, mail_id)) == 3


@pytest.mark.parametrize(
    "item, line",
    [
        (
            MailItem("reply", None, "bob", "Title $x^2$", "", "u"),
            "bob replied to your comment on “Title x²”",
        ),
        (MailItem("mention", None, None, "T", "", "u"), "A former member mentioned you on “T”"),
        (MailItem("paper", "authored", "c", "T", "", "u"), "c commented on your paper, “T”"),
        (
            MailItem("paper", "submitted", "c", "T", "", "u"),
            "c commented on a paper you submitted, “T”",
        ),
        (MailItem("paper", "saved", "c", "T", "", "u"), "c commented on a paper you saved, “T”"),
    ],
)
def test_each_notification_is_described_in_words(item, line):
    assert describe(item) == line


def test_composing_is_pure_and_header_safe():
    import datetime as dt

    from paperwire.digest.model import MailIdentity

    ident = MailIdentity("Paperwire", "https://pw.test", "Paperwire <news@pw.test>")
    kw = dict(
        email="a@example.org",
        name="Evil\r\nBcc: x@evil.test",
        items=[MailItem("mention", None, "b\r\nX-Injected: 1", "T", "hi", "https://u")],
        notifications_url="https://pw.test/notifications",
        unsubscribe_url="https://pw.test/notifications/unsubscribe/t",
        ident=ident,
        date=dt.datetime(2026, 12, 7, tzinfo=dt.UTC),
        msg_id="<notify.1@pw.test>",
    )
    one, two = compose_notification_mail(**kw), compose_notification_mail(**kw)
    # Same inputs, same message (MIME boundaries aside, which email draws at random).
    assert one.items() == two.items()
    assert [p.get_content() for p in one.iter_parts()] == [
        p.get_content() for p in two.iter_parts()
    ]
    assert one["Bcc"] is None and one["X-Injected"] is None


def test_cli_sends_with_a_progress_bar_and_reruns_send_nothing(settings, db):
    from click.testing import CliRunner

    from paperwire.cli import main

    paper = make_papers(db, 1)[0]
    _alice, bob = _member(db, "alice"), _member(db, "bob")
    discussion.post_comment(db, bob, paper.id, "@alice look")
    env = {
        "PAPERWIRE_DATABASE_URL": settings.database_url,
        "PAPERWIRE_DATA_DIR": str(settings.data_dir),
        "PAPERWIRE_SECRET_KEY": "k",
        "PAPERWIRE_MAIL_FROM": "news@pw.test",
        "PAPERWIRE_LOAD_DEMO_DATA": "0",
        "PAPERWIRE_MAIL_TRANSPORT": "outbox",
    }
    first = CliRunner().invoke(main, ["digest", "notify"], env=env)
    assert first.exit_code == 0, first.output
    assert "1 planned, 1 sent" in first.output and "notification mail:" in first.output
    again = CliRunner().invoke(main, ["digest", "notify", "--no-progress"], env=env)
    assert "0 planned, 0 sent" in again.output
    assert len(_outbox(settings)) == 1
