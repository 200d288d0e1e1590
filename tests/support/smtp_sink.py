"""A real SMTP server on loopback (aiosmtpd) that records and parses what it receives.

    with SmtpSink() as sink:            # port 0: the OS picks a free port
        ... send to sink.host, sink.port ...
        sink.wait_for(3)
        sink.messages[0]["Subject"]

Options: STARTTLS or implicit TLS with a given certificate, AUTH (LOGIN/PLAIN) with one
user, scripted replies (``sink.script.append("451 4.3.0 try later")`` answers the next DATA
with that instead of accepting it), ``on_rcpt`` (called with the RCPT number; the crash
test kills the sender from there, at a known point of the SMTP conversation) and ``on_data``
(called with the message number once a message is stored, just before its 250 reply).

Run as a program (``python -m tests.support.smtp_sink``) it serves until SIGTERM and prints
its port on stdout, then its message count: the benchmark's sink in another process.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: email.message.EmailMessage


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        sink = self.sink
        with sink.lock:
            sink.rcpt_count += 1
            n = sink.rcpt_count
        if sink.on_rcpt is not None:
            sink.on_rcpt(n)
        if sink.rcpt_script:
            reply = sink.rcpt_script.pop(0)
            if reply:
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        sink = self.sink
        if sink.script:
            reply = sink.script.pop(0)
            if reply:
                return reply
        if sink.parse:
            msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        else:
            msg = None
        with sink.lock:
            sink.count += 1
            if sink.keep:
                sink.messages.append(
                    Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content, msg)
                )
            sink.cond.notify_all()
            n = sink.count
        if sink.on_data is not None:
            # The message is stored (committed, as far as the client can ever know); the 250
            # reply goes out when this returns.
            sink.on_data(n)
        return "250 Message accepted for delivery"


class _Auth:
    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user.encode(), password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        if (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.user
            and auth_data.password == self.password
        ):
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


@dataclass
class SmtpSink:
    host: str = "127.0.0.1"
    port: int = 0
    tls: str = "none"  # none | starttls | tls
    ssl_context: ssl.SSLContext | None = None  # server side, for starttls / tls
    user: str | None = None
    password: str | None = None
    parse: bool = True
    keep: bool = True
    on_rcpt: Callable[[int], None] | None = None
    on_data: Callable[[int], None] | None = None  # after message n is stored, before 250
    script: list[str | None] = field(default_factory=list)  # replies to next DATAs
    rcpt_script: list[str | None] = field(default_factory=list)  # replies to next RCPTs
    messages: list[Received] = field(default_factory=list)
    count: int = 0
    rcpt_count: int = 0

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server = None
        self._thread: threading.Thread | None = None

    def _factory(self):
        kwargs = {}
        if self.tls == "starttls":
            kwargs.update(tls_context=self.ssl_context, require_starttls=True)
        if self.user is not None:
            # aiosmtpd's auth_require_tls only knows STARTTLS; with implicit TLS the server
            # socket itself is TLS, so every session (and its AUTH) is encrypted already.
            kwargs.update(
                authenticator=_Auth(self.user, self.password or ""),
                auth_required=True,
                auth_require_tls=self.tls == "starttls",
            )
        with warnings.catch_warnings():  # its warning about AUTH without STARTTLS (above)
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
            return SMTP(
                _Handler(self), hostname="sink.test", decode_data=False, data_size_limit=0, **kwargs
            )

    def start(self) -> SmtpSink:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            server_ssl = self.ssl_context if self.tls == "tls" else None
            self._server = loop.run_until_complete(
                loop.create_server(self._factory, self.host, self.port, ssl=server_ssl)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            self._server.close()
            # Close client sessions still open (a killed sender leaves one behind).
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for t in pending:
                t.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(self._server.wait_closed())
            loop.close()

        self._thread = threading.Thread(target=run, name="smtp-sink", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("SMTP sink did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def wait_for(self, n: int, timeout: float = 10.0) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.count >= n, timeout)

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.rcpt_tos]

    @property
    def smtp_url(self) -> str:
        return f"smtp+plain://{self.host}:{self.port}"


def self_signed_cert(folder, names=("localhost", "127.0.0.1")) -> tuple[ssl.SSLContext, str]:
    """A self-signed certificate for ``names`` (host names or IP addresses), made now:
    (server context, path of the PEM certificate, for clients to trust)."""
    import datetime as dt
    import ipaddress
    from pathlib import Path

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def alt(name: str):
        try:
            return x509.IPAddress(ipaddress.ip_address(name))
        except ValueError:
            return x509.DNSName(name)

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([alt(n) for n in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / f"{names[0]}.pem", folder / f"{names[0]}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    return server, str(cert_path)


def self_signed_context(tmp_dir) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for 'localhost'/127.0.0.1, made now."""
    server, cert_path = self_signed_cert(tmp_dir)
    return server, ssl.create_default_context(cafile=cert_path)


def main() -> None:  # pragma: no cover - used by bench/digest.py
    import signal
    import sys

    sink = SmtpSink(parse=False, keep=False).start()
    print(sink.port, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    sink.stop()
    print(sink.count, flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
