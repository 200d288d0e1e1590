"""Getting messages out: SMTP (plain, STARTTLS or implicit TLS, with AUTH), the local outbox
when no SMTP server is configured (``digest/outbox.py``) or, for ``--dry-run``, ``.eml`` files
in a folder. ``open_transport(settings)`` chooses (PAPERWIRE_MAIL_TRANSPORT).

Failures are classified so the sender can act on them:
- ``TemporaryFailure``: 4xx replies, refused or dropped connections, timeouts — retry later.
- ``PermanentFailure``: a 5xx reply to the recipient or the message — counts against the
  subscription (paused after repeats).
- ``TransportError``: the server refuses *us* (authentication, sender address): nothing about
  any subscriber; the run stops and the ledger keeps every undelivered row pending.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote, urlsplit

from paperwire.config import Settings
from paperwire.errors import PaperwireError

if TYPE_CHECKING:
    from paperwire.digest.outbox import OutboxTransport

SECURITY = ("none", "starttls", "tls")


class Transport(Protocol):
    """What the senders need of a transport (``contains`` is optional: the outbox has it)."""

    def send(self, msg: EmailMessage) -> object: ...


class TransportError(PaperwireError):
    """SMTP cannot be used at all (configuration, authentication, sender refused)."""


class TemporaryFailure(Exception):
    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class PermanentFailure(Exception):
    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str = "none"
    user: str = ""
    password: str = ""
    timeout: float = 30.0
    # PEM certificates to trust instead of the system store (SMTP_CA_FILE); "": the store.
    ca_file: str = ""
    # A ready client context (overrides ca_file); None: built from ca_file.
    ssl_context: ssl.SSLContext | None = None

    def describe(self) -> str:
        auth = f"{self.user}@" if self.user else ""
        return f"{self.security} {auth}{self.host}:{self.port}"


def smtp_config(settings: Settings) -> SmtpConfig:
    """From PAPERWIRE_SMTP_URL when set, else the SMTP_HOST/PORT/USER/PASSWORD/SECURITY rows.

    URL forms: ``smtp://user:pass@host:587`` (STARTTLS), ``smtps://...:465`` (implicit TLS),
    ``smtp+plain://host:25`` (no TLS, e.g. a local relay)."""
    timeout = settings.smtp_timeout_seconds
    ca_file = settings.smtp_ca_file.strip()
    if settings.smtp_url:
        parts = urlsplit(settings.smtp_url)
        scheme = parts.scheme.lower()
        security = {
            "smtp": "starttls",
            "smtp+starttls": "starttls",
            "smtps": "tls",
            "smtp+tls": "tls",
            "smtp+plain": "none",
        }.get(scheme)
        if security is None:
            raise TransportError(
                f"PAPERWIRE_SMTP_URL: unknown scheme {scheme!r} (use smtp://, "
                "smtps:// or smtp+plain://)"
            )
        if not parts.hostname:
            raise TransportError("PAPERWIRE_SMTP_URL: no host")
        try:
            port = parts.port
        except ValueError as exc:
            raise TransportError(f"PAPERWIRE_SMTP_URL: bad port ({exc})") from None
        default_port = {"starttls": 587, "tls": 465, "none": 25}[security]
        return SmtpConfig(
            host=parts.hostname,
            port=port or default_port,
            security=security,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            timeout=timeout,
            ca_file=ca_file,
        )
    security = settings.smtp_security.strip().lower()
    if security not in SECURITY:
        raise TransportError(
            f"PAPERWIRE_SMTP_SECURITY must be one of {', '.join(SECURITY)}, "
            f"not {settings.smtp_security!r}"
        )
    return SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=security,
        user=settings.smtp_user,
        password=settings.smtp_password,
        timeout=timeout,
        ca_file=ca_file,
    )


def _envelope(msg: EmailMessage) -> tuple[str, list[str]]:
    sender = msg["From"].addresses[0].addr_spec
    rcpts = [a.addr_spec for a in msg["To"].addresses]
    return sender, rcpts


class SmtpTransport:
    """One SMTP connection reused for many messages; reconnects after a drop."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._conn: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        try:
            # Certificate and host name are always verified; SMTP_CA_FILE only says whom to
            # trust (a missing or unreadable file is a configuration error, not a retry).
            ctx = c.ssl_context or ssl.create_default_context(cafile=c.ca_file or None)
        except (OSError, ssl.SSLError) as exc:
            raise TransportError(f"PAPERWIRE_SMTP_CA_FILE {c.ca_file!r}: {exc}") from None
        try:
            conn: smtplib.SMTP
            if c.security == "tls":
                conn = smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout, context=ctx)
            else:
                conn = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
            conn.ehlo()
            if c.security == "starttls":
                if not conn.has_extn("starttls"):
                    conn.close()
                    raise TransportError(f"{c.host}:{c.port} does not offer STARTTLS")
                conn.starttls(context=ctx)
                conn.ehlo()
            if c.user:
                conn.login(c.user, c.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise TransportError(
                f"SMTP authentication failed at {c.describe()}: "
                f"{exc.smtp_code} {_text(exc.smtp_error)}"
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise TransportError(f"SMTP server at {c.describe()}: {exc}") from None
        except ssl.SSLError as exc:
            raise TransportError(f"TLS with {c.describe()} failed: {exc}") from None
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:
                raise TemporaryFailure(
                    f"{exc.smtp_code} {_text(exc.smtp_error)}", exc.smtp_code
                ) from None
            raise TransportError(
                f"SMTP server at {c.describe()} refused the session: "
                f"{exc.smtp_code} {_text(exc.smtp_error)}"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"cannot connect to SMTP {c.describe()}: {exc}") from None
        return conn

    def send(self, msg: EmailMessage) -> None:
        """Hand one message to the server; returns only after its 250 reply."""
        sender, rcpts = _envelope(msg)
        if self._conn is None:
            self._conn = self._connect()
        conn = self._conn
        try:
            refused = conn.send_message(msg, from_addr=sender, to_addrs=rcpts)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            self._reset()
            raise _classify(code, f"recipient refused: {code} {_text(text)}") from None
        except smtplib.SMTPSenderRefused as exc:
            self._reset()
            if 400 <= exc.smtp_code < 500:
                raise TemporaryFailure(
                    f"sender refused: {exc.smtp_code} {_text(exc.smtp_error)}", exc.smtp_code
                ) from None
            raise TransportError(
                f"the SMTP server refuses the sender {sender}: "
                f"{exc.smtp_code} {_text(exc.smtp_error)}"
            ) from None
        except smtplib.SMTPResponseException as exc:
            self._reset()
            raise _classify(exc.smtp_code, f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
        except (TimeoutError, smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise TemporaryFailure(f"connection lost: {exc}") from None
        if refused:
            code, text = next(iter(refused.values()))
            raise _classify(code, f"recipient refused: {code} {_text(text)}")

    def _reset(self) -> None:
        try:
            if self._conn is not None:
                self._conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001 - already broken
                pass
        self._conn = None

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()


def _text(raw: object) -> str:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    return " ".join(str(raw).split())


def _classify(code: int, message: str) -> Exception:
    if 400 <= code < 500:
        return TemporaryFailure(message, code)
    return PermanentFailure(message, code)


class DirectoryTransport:
    """``--dry-run DIR``: each message becomes DIR/<message-id>.eml; nothing is mailed."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> DirectoryTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def send(self, msg: EmailMessage) -> None:
        mid = str(msg["Message-ID"] or "message").strip("<>")
        name = "".join(ch if ch.isalnum() or ch in ".-_@" else "_" for ch in mid)[:150]
        path = self.directory / f"{name}.eml"
        tmp = path.with_suffix(".eml.tmp")
        tmp.write_bytes(msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")))
        tmp.replace(path)

    def close(self) -> None:
        return None


TRANSPORTS = ("auto", "smtp", "outbox")


def mail_target(settings: Settings) -> str:
    """'smtp' or 'outbox': where mail goes with these settings (PAPERWIRE_MAIL_TRANSPORT;
    ``auto`` means SMTP when an SMTP server is configured, else the local outbox)."""
    choice = (settings.mail_transport or "auto").strip().lower()
    if choice not in TRANSPORTS:
        raise TransportError(
            f"PAPERWIRE_MAIL_TRANSPORT must be one of {', '.join(TRANSPORTS)}, "
            f"not {settings.mail_transport!r}"
        )
    if choice == "auto":
        return "smtp" if (settings.smtp_url or settings.smtp_host).strip() else "outbox"
    if choice == "smtp" and not (settings.smtp_url or settings.smtp_host).strip():
        raise TransportError(
            "PAPERWIRE_MAIL_TRANSPORT=smtp but no SMTP server is configured: "
            "set PAPERWIRE_SMTP_URL (e.g. smtp://user:pass@host:587)"
        )
    return choice


def describe_mail(settings: Settings) -> str:
    """One line for the console, the log and the admin page: where mail goes, and how to
    change it."""
    from paperwire.digest.outbox import outbox_dir

    try:
        target = mail_target(settings)
    except TransportError as exc:
        return f"Mail: not configured correctly: {exc}"
    if target == "smtp":
        try:
            return f"Mail: sent over SMTP ({smtp_config(settings).describe()})."
        except TransportError as exc:
            return f"Mail: SMTP is not configured correctly: {exc}"
    return (
        f"Mail: no SMTP server configured; messages are delivered to the outbox "
        f"{outbox_dir(settings).resolve()} (a Maildir, listed for admins on /admin/outbox). "
        "To send real mail set PAPERWIRE_SMTP_URL=smtp://user:pass@host:587."
    )


def open_transport(
    settings: Settings, dry_run: Path | None = None
) -> DirectoryTransport | OutboxTransport | SmtpTransport:
    """The transport mail goes through: ``--dry-run`` folder, SMTP, or the local outbox."""
    if dry_run is not None:
        return DirectoryTransport(dry_run)
    if mail_target(settings) == "outbox":
        from paperwire.digest.outbox import OutboxTransport, outbox_dir

        return OutboxTransport(outbox_dir(settings))
    return SmtpTransport(smtp_config(settings))
