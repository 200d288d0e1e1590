"""Subscribe -> confirm -> digest -> one-click unsubscribe -> no more mail, over a real SMTP
server; bad links never act."""

from __future__ import annotations

import re
import time

import itsdangerous.timed
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from paperwire.digest.edition import edition_for
from paperwire.digest.send import send_edition
from paperwire.digest.tokens import make_token
from paperwire.digest.transport import open_transport
from paperwire.store.models import Subscription
from tests.digest.kit import SEND_DAY, mail_settings, seed_day
from tests.factories import make_subscription
from tests.support.smtp_sink import SmtpSink
from tests.web.accountkit import make_app

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def sink():
    with SmtpSink() as s:
        yield s


@pytest.fixture
def msettings(settings, sink):
    return mail_settings(settings, sink)


@pytest.fixture
def client(msettings, db):
    with TestClient(make_app(msettings, db)) as c:
        yield c


def csrf(client, path="/subscribe") -> str:
    return _CSRF.search(client.get(path).text).group(1)


def confirmation_link(message) -> str:
    return re.search(
        r"https://paperwire\.test(/subscribe/confirm/\S+)",
        message.get_body(("plain",)).get_content(),
    ).group(1)


def follow_confirmation(client, message):
    """Open the mailed confirmation link in ``client``'s browser and press the button."""
    link = confirmation_link(message)
    page = client.get(link)
    return client.post(
        link, data={"csrf_token": _CSRF.search(page.text).group(1)}, follow_redirects=False
    )


def send(msettings, db, day=SEND_DAY):
    with open_transport(msettings) as t:
        return send_edition(msettings, db, edition_for("daily", day), t, progress=False)


def test_subscribe_confirm_digest_one_click_unsubscribe(client, msettings, db, sink):
    seed_day(db)
    r = client.post("/subscribe", data={"email": "Reader@Example.org", "csrf_token": csrf(client)})
    assert r.status_code == 200 and "Check your inbox" in r.text
    assert sink.wait_for(1)
    confirm_mail = sink.messages[0].message
    assert confirm_mail["To"] == "reader@example.org"
    # Double opt-in: nothing is sent before the link is used.
    assert send(msettings, db).sent == 0 and sink.count == 1
    link = re.search(
        r"https://paperwire\.test(/subscribe/confirm/\S+)",
        confirm_mail.get_body(("plain",)).get_content(),
    ).group(1)
    page = client.get(link)
    assert page.status_code == 200 and "Confirm subscription" in page.text
    r = client.post(
        link, data={"csrf_token": _CSRF.search(page.text).group(1)}, follow_redirects=False
    )
    assert r.status_code == 303
    prefs = client.get(r.headers["location"])
    assert "Subscription confirmed" in prefs.text
    r = client.post(
        r.headers["location"].split("?")[0],
        data={
            "csrf_token": _CSRF.search(prefs.text).group(1),
            "editions": "daily",
            "max_papers": "5",
            "topic_kind_0": "query",
            "topic_value_0": '"single-cell" cat:q-bio.*',
            "topic_threshold_0": "",
        },
    )
    assert r.status_code == 200 and "Preferences saved" in r.text
    assert send(msettings, db).sent == 1 and sink.wait_for(2)
    digest = sink.messages[1].message
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.match(r"<([^>]+)>", digest["List-Unsubscribe"]).group(1)
    assert "Matched" in digest.get_body(("plain",)).get_content()
    # RFC 8058: the mail provider POSTs, with no cookies and no CSRF token.
    with TestClient(client.app) as provider:
        r = provider.post(
            url.replace("https://paperwire.test", ""),
            content="List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    assert r.status_code == 200 and "Unsubscribed" in r.text
    seed_day(db, SEND_DAY)
    assert send(msettings, db, edition_for("daily", SEND_DAY.replace(day=27)).send_day).sent == 0
    assert sink.count == 2


@pytest.mark.parametrize(
    "purpose,path",
    [
        ("confirm", "/subscribe/confirm/"),
        ("unsubscribe", "/unsubscribe/"),
        ("preferences", "/subscription/"),
    ],
)
def test_tampered_links_get_a_clear_page_and_no_action(client, msettings, db, purpose, path):
    sid = make_subscription(
        db, "a@example.org", status="pending" if purpose == "confirm" else "active"
    )
    token = make_token(msettings.effective_secret_key(), purpose, sid, 0)
    bad = token[:-2] + ("xy" if not token.endswith("xy") else "zz")
    assert client.get(path + bad).status_code == 400
    r = client.post(path + bad, data={"csrf_token": csrf(client), "editions": "weekly"})
    assert r.status_code == 400 and "not valid" in r.text
    with db.session() as s:
        sub = s.get(Subscription, sid)
        assert sub.status == ("pending" if purpose == "confirm" else "active")
        assert sub.editions == "daily"


def test_expired_confirmation_link_does_not_confirm(client, msettings, db, monkeypatch):
    sid = make_subscription(db, "a@example.org", status="pending")
    real = time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real() - 30 * 86400)
    token = make_token(msettings.effective_secret_key(), "confirm", sid, 0)
    monkeypatch.setattr(itsdangerous.timed.time, "time", real)
    r = client.post("/subscribe/confirm/" + token, data={"csrf_token": csrf(client)})
    assert r.status_code == 400 and "expired" in r.text
    with db.session() as s:
        assert s.get(Subscription, sid).status == "pending"


def test_links_mailed_before_a_resubscribe_are_void(client, msettings, db):
    sid = make_subscription(db, "a@example.org", status="unsubscribed")
    old = make_token(msettings.effective_secret_key(), "confirm", sid, 0)
    client.post("/subscribe", data={"email": "a@example.org", "csrf_token": csrf(client)})
    r = client.post("/subscribe/confirm/" + old, data={"csrf_token": csrf(client)})
    assert r.status_code == 400
    with db.session() as s:
        assert s.get(Subscription, sid).status == "pending"


@pytest.mark.parametrize(
    "email", ["not-an-email", "a@b.org\r\nBcc: x@y.org", "a@b.org, c@d.org", ""]
)
def test_bad_addresses_are_refused_with_a_reason(client, db, sink, email):
    r = client.post("/subscribe", data={"email": email, "csrf_token": csrf(client)})
    assert r.status_code == 400 and "form-errors" in r.text
    assert sink.count == 0
    with db.session() as s:
        assert s.scalar(select(Subscription)) is None


@pytest.mark.parametrize(
    "value,threshold,why",
    [
        ("x" * 400, "", "longer than"),
        ("cells", "2", "between 0 and 1"),
        ("cells", "abc", "must be a number"),
    ],
)
def test_bad_topics_are_explained_and_the_form_kept(client, msettings, db, value, threshold, why):
    sid = make_subscription(db, "a@example.org")
    token = make_token(msettings.effective_secret_key(), "preferences", sid, 0)
    page = client.get("/subscription/" + token)
    r = client.post(
        "/subscription/" + token,
        data={
            "csrf_token": _CSRF.search(page.text).group(1),
            "editions": "weekly",
            "max_papers": "5",
            "topic_kind_0": "query",
            "topic_value_0": value,
            "topic_threshold_0": threshold,
        },
    )
    assert r.status_code == 400 and why in r.text
    with db.session() as s:
        assert s.get(Subscription, sid).editions == "daily"


def test_topic_with_line_break_is_stored_on_one_line(client, msettings, db):
    sid = make_subscription(db, "a@example.org")
    token = make_token(msettings.effective_secret_key(), "preferences", sid, 0)
    page = client.get("/subscription/" + token)
    client.post(
        "/subscription/" + token,
        data={
            "csrf_token": _CSRF.search(page.text).group(1),
            "editions": "daily",
            "max_papers": "5",
            "topic_kind_0": "query",
            "topic_value_0": "cells\r\nBcc: x@y.org",
        },
    )
    with db.session() as s:
        assert s.get(Subscription, sid).topics[0]["value"] == "cells Bcc: x@y.org"


def test_signed_in_user_subscribes_from_the_profile_and_manages_preferences(
    client, msettings, db, sink
):
    from tests.web.accountkit import fast_hashing, make_user, signin  # noqa: F401

    make_user(db, "carol", email="carol@example.org")
    signin(client, "carol")
    page = client.get("/subscribe?email=carol@example.org")
    assert 'value="carol@example.org"' in page.text
    client.post(
        "/subscribe",
        data={"email": "carol@example.org", "csrf_token": _CSRF.search(page.text).group(1)},
    )
    assert sink.wait_for(1)  # double opt-in applies to members too
    with db.session() as s:
        sub = s.scalar(select(Subscription))
        assert sub.user_id is None and sub.status == "pending"
    # Following the link while signed in proves the address and links it to the account.
    follow_confirmation(client, sink.messages[0].message)
    with db.session() as s:
        sub = s.scalar(select(Subscription))
        assert sub.user_id is not None and sub.status == "active"
    prefs = client.get("/subscribe")
    assert "Digest preferences" in prefs.text
    r = client.post(
        "/subscription",
        data={
            "csrf_token": _CSRF.search(prefs.text).group(1),
            "editions": "both",
            "max_papers": "7",
            "topic_kind_0": "author",
            "topic_value_0": "Ada Lovelace",
        },
    )
    assert r.status_code == 200 and "Preferences saved" in r.text
    with db.session() as s:
        sub = s.scalar(select(Subscription))
        assert (sub.editions, sub.max_papers, sub.topics[0]["kind"]) == ("both", 7, "author")
