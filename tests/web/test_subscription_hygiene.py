"""Mail hygiene of subscriptions, over a real SMTP server, on SQLite and PostgreSQL:

- D1: an account reaches only a subscription whose address it has proven (its confirmation
  link followed while signed in); an account e-mail equal to a reader's address gives nothing.
- D9: one confirmation mail per address per interval, a daily cap per address and per
  account; the answer is the same whether or not a mail went out.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from paperwire.store.models import Subscription
from tests.digest.kit import mail_settings
from tests.support.smtp_sink import SmtpSink
from tests.web.accountkit import fast_hashing, make_app, make_user, signin  # noqa: F401
from tests.web.test_subscriptions import _CSRF, csrf, follow_confirmation

READER = "reader@example.org"


@pytest.fixture
def sink():
    with SmtpSink() as s:
        yield s


def _client(settings, db, sink, **kw) -> TestClient:
    return TestClient(make_app(mail_settings(settings, sink, **kw), db))


def _unlimited(settings, db, sink) -> TestClient:
    """A client whose mails are not held back by the per-address interval."""
    return _client(settings, db, sink, confirm_mail_interval_minutes=0)


def _subscribe(client, email=READER, editions="daily"):
    return client.post(
        "/subscribe", data={"email": email, "editions": editions, "csrf_token": csrf(client)}
    )


def test_account_with_a_readers_address_cannot_reach_the_readers_subscription(settings, db, sink):
    # The reader subscribes without an account and confirms from the mail.
    with _client(settings, db, sink) as reader:
        assert _subscribe(reader).status_code == 200 and sink.wait_for(1)
        assert follow_confirmation(reader, sink.messages[0].message).status_code == 303
    with db.session() as s:
        sub = s.scalar(select(Subscription))
        assert sub.status == "active" and sub.user_id is None
        before = (sub.editions, sub.max_papers, list(sub.topics))
    # Someone signs up with the reader's address (account e-mails are never verified).
    make_user(db, "mallory", email=READER)
    with _unlimited(settings, db, sink) as mallory:
        signin(mallory, "mallory")
        page = mallory.get("/subscribe")
        assert "Digest preferences" not in page.text and "/unsubscribe/" not in page.text
        r = mallory.post(
            "/subscription",
            data={
                "csrf_token": _CSRF.search(page.text).group(1),
                "editions": "weekly",
                "max_papers": "50",
            },
        )
        assert r.status_code == 404
        # Asking for the address while signed in mails the reader a link, and links nothing.
        r = _subscribe(mallory, editions="both")
        assert r.status_code == 200 and "Check your inbox" in r.text
        assert sink.wait_for(2) and sink.messages[1].rcpt_tos == [READER]
        page = mallory.get("/subscribe")
        assert "Digest preferences" not in page.text and "/unsubscribe/" not in page.text
    with db.session() as s:
        sub = s.scalar(select(Subscription))
        assert sub.user_id is None and sub.status == "active"
        assert (sub.editions, sub.max_papers, list(sub.topics)) == before


def test_reader_who_signs_up_later_links_the_subscription_by_following_its_link(settings, db, sink):
    with _client(settings, db, sink) as anonymous:
        _subscribe(anonymous)
        assert sink.wait_for(1)
        follow_confirmation(anonymous, sink.messages[0].message)
    make_user(db, "reader", email=READER)
    with _unlimited(settings, db, sink) as client:
        signin(client, "reader")
        assert "Digest preferences" not in client.get("/subscribe").text
        _subscribe(client)
        assert sink.wait_for(2)
        follow_confirmation(client, sink.messages[1].message)
        assert "Digest preferences" in client.get("/subscribe").text
    with db.session() as s:
        assert s.scalar(select(Subscription.user_id)) is not None


def test_pending_address_gets_one_confirmation_mail_however_often_it_is_asked(settings, db, sink):
    with _client(settings, db, sink) as client:
        answers = {_subscribe(client).text.split("<main", 1)[-1] for _ in range(6)}
        sink.wait_for(2, timeout=1.0)
    assert sink.count == 1
    assert len(answers) == 1  # the same page whether or not a mail went out


def test_daily_cap_per_address_and_per_account(settings, db, sink):
    make_user(db, "bomber", email="bomber@example.org")
    with _client(
        settings, db, sink, confirm_mail_interval_minutes=0, confirm_mails_per_day=3
    ) as client:
        for _ in range(5):
            _subscribe(client)
        assert sink.count == 3 and {r for m in sink.messages for r in m.rcpt_tos} == {READER}
        signin(client, "bomber")
        for i in range(5):
            _subscribe(client, f"victim{i}@example.org")
    assert sink.count == 6  # three more: the account's cap, whatever the addresses


def test_confirmation_mail_goes_out_after_the_response_and_its_failure_is_logged(
    settings, db, sink, caplog
):
    """A refusing mail server neither fails the page nor loses the subscription."""
    sink.rcpt_script.append("550 5.1.1 no such user")
    with _client(settings, db, sink) as client:
        r = _subscribe(client)
    assert r.status_code == 200 and "Check your inbox" in r.text
    assert any(
        "confirmation mail for subscription" in rec.message and "550" in rec.message
        for rec in caplog.records
    )
    with db.session() as s:
        assert s.scalar(select(Subscription.status)) == "pending"
