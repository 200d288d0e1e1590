"""/admin/outbox: admins see where mail went and read each message; hostile content is shown
escaped or sandboxed, never run; nobody else gets in."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient

from paperwire.digest.outbox import OutboxTransport, list_messages, outbox_dir
from tests.web.accountkit import fast_hashing, make_app, make_user, signin  # noqa: F401

HOSTILE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'


def _hostile(settings) -> str:
    msg = EmailMessage()
    msg["From"], msg["To"] = "news@paperwire.test", "reader@example.org"
    msg["Subject"] = "Papers " + HOSTILE
    msg["Message-ID"] = "<digest.7.daily.2026-11-25@paperwire.test>"
    msg["Date"] = "Thu, 26 Nov 2026 07:00:00 +0000"
    msg.set_content("Text part " + HOSTILE)
    msg.add_alternative(
        f"<html><body><p style='color:red'>Hi</p>{HOSTILE}</body></html>", subtype="html"
    )
    OutboxTransport(outbox_dir(settings)).send(msg)
    (item,), _ = list_messages(outbox_dir(settings))
    return item.key


@pytest.fixture
def app(settings, db):
    return make_app(settings, db)


def test_admin_lists_the_outbox_and_reads_a_message_with_its_content_escaped(app, settings, db):
    key = _hostile(settings)
    make_user(db, "ada", admin=True)
    with TestClient(app) as client:
        signin(client, "ada")
        page = client.get("/admin/outbox")
        assert page.status_code == 200
        assert (
            str(outbox_dir(settings).resolve()) in page.text and "PAPERWIRE_SMTP_URL" in page.text
        )
        assert f'href="/admin/outbox/{key}"' in page.text
        assert "<script>window.pwned" not in page.text and "&lt;script&gt;" in page.text
        msg = client.get(f"/admin/outbox/{key}")
        assert msg.status_code == 200 and "Text part" in msg.text
        assert "<script>window.pwned" not in msg.text and 'onerror="window' not in msg.text
        assert f'<iframe class="mail-html" sandbox src="/admin/outbox/{key}/html"' in msg.text
        part = client.get(f"/admin/outbox/{key}/html")
        csp = part.headers["content-security-policy"]
        assert csp.startswith("sandbox;") and "default-src 'none'" in csp
        assert "script-src" not in csp  # falls back to default-src 'none': no script at all
        assert client.get("/admin/outbox/pw-nosuchmessage").status_code == 404
        assert client.get("/admin/outbox/..%2f..%2fsecret_key").status_code == 404


def test_the_outbox_is_for_admins_only(app, settings, db):
    key = _hostile(settings)
    make_user(db, "member")
    with TestClient(app) as client:
        for path in ("/admin/outbox", f"/admin/outbox/{key}", f"/admin/outbox/{key}/html"):
            assert client.get(path, follow_redirects=False).status_code == 401
        signin(client, "member")
        for path in ("/admin/outbox", f"/admin/outbox/{key}", f"/admin/outbox/{key}/html"):
            assert client.get(path).status_code == 403


def test_an_empty_outbox_says_so(app, settings, db):
    make_user(db, "ada", admin=True)
    with TestClient(app) as client:
        signin(client, "ada")
        assert "The outbox is empty" in client.get("/admin/outbox").text
