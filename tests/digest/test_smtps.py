"""SMTP over TLS against a real aiosmtpd server with a certificate made in the test: implicit
TLS (smtps://, port 465 style) delivers with AUTH; a certificate that is not trusted, or names
another host, stops the run before anything is sent, unless SMTP_CA_FILE trusts it."""

from __future__ import annotations

import dataclasses
import ssl

import pytest
from sqlalchemy import select

from paperwire.digest.send import send_edition
from paperwire.digest.transport import TransportError, open_transport, smtp_config
from paperwire.store.models import DigestDelivery
from tests.digest.kit import daily, mail_settings, seed_day
from tests.factories import make_subscription
from tests.support.smtp_sink import SmtpSink, self_signed_cert


def make_cert(folder, host: str) -> tuple[ssl.SSLContext, str]:
    """A self-signed certificate for ``host``: (server context, path of the PEM certificate)."""
    return self_signed_cert(folder, (host,))


def run(settings, db):
    with open_transport(settings) as transport:
        return send_edition(settings, db, daily(), transport, progress=False, sleep=lambda _s: None)


def pending(db) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(DigestDelivery.status)))


@pytest.fixture
def smtps(tmp_path):
    """An implicit-TLS server with AUTH whose certificate names 127.0.0.1."""
    server_ctx, cert = make_cert(tmp_path / "certs", "127.0.0.1")
    with SmtpSink(tls="tls", ssl_context=server_ctx, user="mailer", password="s3cret") as sink:
        yield sink, cert


def smtps_settings(settings, sink, **kw):
    return mail_settings(
        settings, sink, smtp_url=f"smtps://mailer:s3cret@127.0.0.1:{sink.port}", **kw
    )


def test_implicit_tls_with_auth_delivers_when_the_certificate_is_trusted(settings, db, smtps):
    sink, cert = smtps
    seed_day(db)
    make_subscription(db, "a@example.org")
    make_subscription(db, "b@example.org")
    s = smtps_settings(settings, sink, smtp_ca_file=cert)
    assert smtp_config(s).security == "tls"
    summary = run(s, db)
    assert summary.sent == 2 and sink.count == 2
    assert sorted(r for m in sink.messages for r in m.rcpt_tos) == [
        "a@example.org",
        "b@example.org",
    ]
    assert sink.messages[0].message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert pending(db) == ["sent", "sent"]


def test_an_untrusted_certificate_is_refused_and_nothing_is_lost(settings, db, smtps):
    sink, cert = smtps
    seed_day(db)
    make_subscription(db, "a@example.org")
    with pytest.raises(TransportError, match="TLS .*certificate verify failed"):
        run(smtps_settings(settings, sink), db)  # system store: the self-signed cert fails
    assert sink.count == 0 and pending(db) == ["pending"]
    # Trusting it through the setting delivers the digest the failed run kept pending.
    assert run(smtps_settings(settings, sink, smtp_ca_file=cert), db).sent == 1
    assert sink.count == 1


def test_a_trusted_certificate_for_another_host_is_refused(settings, db, tmp_path):
    server_ctx, cert = make_cert(tmp_path / "certs", "mail.example.org")
    seed_day(db)
    make_subscription(db, "a@example.org")
    with SmtpSink(tls="tls", ssl_context=server_ctx) as sink:
        s = mail_settings(
            settings, sink, smtp_url=f"smtps://127.0.0.1:{sink.port}", smtp_ca_file=cert
        )
        with pytest.raises(TransportError, match="TLS .*(IP address mismatch|hostname)"):
            run(s, db)
        assert sink.count == 0 and pending(db) == ["pending"]


def test_the_ca_file_setting_also_covers_starttls(settings, db, tmp_path):
    server_ctx, cert = make_cert(tmp_path / "certs", "127.0.0.1")
    seed_day(db)
    make_subscription(db, "a@example.org")
    with SmtpSink(tls="starttls", ssl_context=server_ctx, user="mailer", password="s3cret") as sink:
        url = f"smtp://mailer:s3cret@127.0.0.1:{sink.port}"
        with pytest.raises(TransportError, match="certificate verify failed"):
            run(mail_settings(settings, sink, smtp_url=url), db)
        assert run(mail_settings(settings, sink, smtp_url=url, smtp_ca_file=cert), db).sent == 1
        assert sink.count == 1


def test_a_missing_ca_file_is_a_configuration_error(settings, db, smtps, tmp_path):
    sink, _cert = smtps
    seed_day(db)
    make_subscription(db, "a@example.org")
    s = smtps_settings(settings, sink, smtp_ca_file=str(tmp_path / "nowhere.pem"))
    with pytest.raises(TransportError, match="PAPERWIRE_SMTP_CA_FILE"):
        run(s, db)
    assert pending(db) == ["pending"]


def test_host_and_port_settings_select_implicit_tls(settings, tmp_path):
    s = dataclasses.replace(
        settings,
        smtp_url="",
        smtp_host="mail.example.org",
        smtp_port=465,
        smtp_security="TLS",
        smtp_ca_file=f" {tmp_path}/ca.pem ",
    )
    c = smtp_config(s)
    assert (c.host, c.port, c.security, c.ca_file) == (
        "mail.example.org",
        465,
        "tls",
        f"{tmp_path}/ca.pem",
    )
