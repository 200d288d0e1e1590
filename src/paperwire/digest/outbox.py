"""The local outbox: where mail goes when no SMTP server is configured (the embedded default).

The outbox is a standard Maildir (``DATA_DIR/outbox/{tmp,new,cur}``): any mail program can
open it (``mutt -f data/outbox``), Python's ``mailbox.Maildir`` reads it, and the admin page
``/admin/outbox`` lists it.

Invariants:
- A message file appears whole or not at all: it is written under ``tmp/`` and hard-linked
  into ``new/`` (the Maildir delivery protocol), so a reader never sees half a message.
- Delivery is idempotent per Message-ID: a message's file name is derived from its
  Message-ID, and ``os.link`` refuses to replace an existing name. A digest re-sent after a
  crash (same Message-ID, see ``digest/send.py``) therefore lands in the outbox once: the
  outbox is exactly-once where SMTP can only be at-least-once.
- Nothing here ever executes or renders message content; the web page escapes it.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import mailbox
import os
import re
import socket
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

from paperwire.config import Settings

_KEY = re.compile(r"^[A-Za-z0-9._-]{1,200}$")


def outbox_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "outbox"


def message_key(msg: EmailMessage) -> str:
    """The file name (Maildir key) of a message: stable for a Message-ID."""
    mid = str(msg["Message-ID"] or "").strip()
    if not mid:
        # No Message-ID (compose always sets one): fall back to the content itself.
        mid = hashlib.sha256(msg.as_bytes()).hexdigest()
    return "pw-" + hashlib.sha256(mid.encode("utf-8", "replace")).hexdigest()[:40]


class OutboxTransport:
    """Delivers messages into the Maildir outbox (same interface as ``SmtpTransport``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        for sub in ("tmp", "new", "cur"):
            (self.directory / sub).mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> OutboxTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def close(self) -> None:
        return None

    def describe(self) -> str:
        return f"the outbox {self.directory}"

    def contains(self, msg: EmailMessage) -> bool:
        key = message_key(msg)
        if (self.directory / "new" / key).exists():
            return True
        return any(p.name.split(":", 1)[0] == key for p in (self.directory / "cur").iterdir())

    def send(self, msg: EmailMessage) -> bool:
        """Deliver ``msg``; False when a message with its Message-ID is there already."""
        if self.contains(msg):
            return False
        key = message_key(msg)
        tmp = self.directory / "tmp" / f"{key}.{socket.gethostname()}.{os.getpid()}"
        data = msg.as_bytes(policy=msg.policy.clone(linesep="\n"))
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, self.directory / "new" / key)
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)
        return True


@dataclass(frozen=True)
class OutboxItem:
    key: str
    date: object  # datetime or None
    to: str
    subject: str
    message_id: str


def _maildir(directory: Path) -> mailbox.Maildir:
    return mailbox.Maildir(str(directory), factory=None, create=True)


def _parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def list_messages(directory: Path, limit: int = 200) -> tuple[list[OutboxItem], int]:
    """The newest ``limit`` messages (newest first) and how many the outbox holds."""
    directory = Path(directory)
    if not (directory / "new").is_dir():
        return [], 0
    box = _maildir(directory)
    files = []
    for sub in ("new", "cur"):
        for path in (directory / sub).iterdir():
            if path.name.startswith("."):
                continue
            try:
                files.append((path.stat().st_mtime, path.name.split(":", 1)[0]))
            except OSError:
                continue
    files.sort(reverse=True)
    items = []
    for _mtime, key in files[:limit]:
        try:
            msg = _parse(box.get_bytes(key))
        except (KeyError, OSError):
            continue
        items.append(
            OutboxItem(
                key,
                _date(msg),
                _header(msg, "To"),
                _header(msg, "Subject"),
                _header(msg, "Message-ID"),
            )
        )
    return items, len(files)


def read_message(directory: Path, key: str) -> EmailMessage | None:
    """The message stored under ``key`` (None for an unknown or malformed key)."""
    if not _KEY.match(key or "") or not (Path(directory) / "new").is_dir():
        return None
    try:
        return _parse(_maildir(Path(directory)).get_bytes(key))
    except (KeyError, OSError):
        return None


def _header(msg: EmailMessage, name: str) -> str:
    try:
        return str(msg[name] or "")
    except Exception:  # noqa: BLE001 - a malformed header is shown empty, not fatal
        return ""


def _date(msg: EmailMessage) -> dt.datetime | None:
    try:
        return parsedate_to_datetime(str(msg["Date"]))
    except (TypeError, ValueError):
        return None
