"""Mail on the embedded default: with no SMTP server configured, every message (confirmation
and digest) lands in the Maildir DATA_DIR/outbox, once per Message-ID."""

from __future__ import annotations

import dataclasses
import mailbox
import re

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from paperwire.digest.outbox import OutboxTransport, list_messages, outbox_dir, read_message
from paperwire.digest.send import send_edition
from paperwire.digest.transport import (
    SmtpTransport,
    TransportError,
    describe_mail,
    mail_target,
    open_transport,
)
from tests.digest.kit import daily, seed_day
from tests.web.accountkit import fast_hashing, make_app  # noqa: F401

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def osettings(settings):
    # The test defaults: no SMTP_URL, no SMTP_HOST -> the outbox.
    return dataclasses.replace(
        settings, base_url="https://paperwire.test", mail_from="Paperwire <news@paperwire.test>"
    )


def _box(settings) -> list:
    box = mailbox.Maildir(str(outbox_dir(settings)), factory=None, create=False)
    return [m for _k, m in sorted(box.items(), key=lambda kv: kv[1]["Date"])]


def test_without_smtp_subscribe_confirm_and_digest_land_in_the_outbox(osettings, db):
    assert mail_target(osettings) == "outbox"
    seed_day(db)
    with TestClient(make_app(osettings, db)) as client:
        token = _CSRF.search(client.get("/subscribe").text).group(1)
        r = client.post("/subscribe", data={"email": "reader@example.org", "csrf_token": token})
        assert r.status_code == 200 and "Check your inbox" in r.text
        (confirm,) = _box(osettings)
        assert confirm["To"] == "reader@example.org"
        body = confirm.get_payload(0).get_payload(decode=True).decode()
        link = re.search(r"https://paperwire\.test(/subscribe/confirm/\S+)", body).group(1)
        page = client.get(link)
        r = client.post(
            link, data={"csrf_token": _CSRF.search(page.text).group(1)}, follow_redirects=False
        )
        assert r.status_code == 303
    with open_transport(osettings) as transport:
        assert isinstance(transport, OutboxTransport)
        summary = send_edition(osettings, db, daily(), transport, progress=False)
    assert summary.sent == 1
    messages = _box(osettings)
    assert len(messages) == 2 and messages[1]["List-Unsubscribe-Post"]
    items, total = list_messages(outbox_dir(osettings))
    assert total == 2 and {i.to for i in items} == {"reader@example.org"}
    assert read_message(outbox_dir(osettings), items[0].key)["Subject"] == items[0].subject
    # A rerun delivers nothing more.
    with open_transport(osettings) as transport:
        assert send_edition(osettings, db, daily(), transport, progress=False).sent == 0
    assert len(_box(osettings)) == 2


def test_the_outbox_keeps_one_copy_per_message_id(tmp_path):
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@example.org", "b@example.org", "hi"
    msg["Message-ID"] = "<digest.1.daily.2026-11-25@example.org>"
    msg.set_content("hello")
    box = OutboxTransport(tmp_path / "outbox")
    assert box.send(msg) is True
    assert box.send(msg) is False
    other = EmailMessage()
    for h in ("From", "To", "Subject"):
        other[h] = msg[h]
    other["Message-ID"] = "<digest.2.daily.2026-11-25@example.org>"
    other.set_content("hello")
    assert box.send(other) is True
    assert len(mailbox.Maildir(str(tmp_path / "outbox"), create=False)) == 2
    assert list(read_message(tmp_path / "outbox", k) for k in ("../x", "", "nope")) == [None] * 3


def test_where_mail_goes_is_said_with_how_to_configure_smtp(osettings):
    line = describe_mail(osettings)
    assert str(outbox_dir(osettings).resolve()) in line and "PAPERWIRE_SMTP_URL" in line
    smtp = dataclasses.replace(osettings, smtp_url="smtp+plain://mail.example.org:25")
    assert mail_target(smtp) == "smtp" and "mail.example.org:25" in describe_mail(smtp)
    assert isinstance(open_transport(smtp), SmtpTransport)
    forced = dataclasses.replace(smtp, mail_transport="outbox")
    assert isinstance(open_transport(forced), OutboxTransport)


@pytest.mark.parametrize(
    "value,why", [("smtp", "no SMTP server is configured"), ("carrier-pigeon", "must be one of")]
)
def test_a_mail_transport_that_cannot_work_is_refused_with_the_reason(osettings, value, why):
    with pytest.raises(TransportError, match=why):
        open_transport(dataclasses.replace(osettings, mail_transport=value))


def test_cli_subscribe_says_the_link_went_to_the_outbox(osettings, db):
    from paperwire.cli import main

    env = {
        "PAPERWIRE_DATA_DIR": str(osettings.data_dir),
        "PAPERWIRE_DATABASE_URL": osettings.database_url,
        "PAPERWIRE_SECRET_KEY": "k",
        "PAPERWIRE_LOAD_DEMO_DATA": "0",
    }
    result = CliRunner().invoke(main, ["subscribe", "cli@example.org"], env=env)
    assert result.exit_code == 0, result.output
    assert "confirmation link mailed" in result.output and "outbox" in result.output
    assert [m["To"] for m in _box(osettings)] == ["cli@example.org"]
