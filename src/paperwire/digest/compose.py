"""Messages: a ``Digest`` (or a confirmation request) in, an ``EmailMessage`` out.

Pure: no clock, no database, no network — the date and Message-ID are arguments, so the same
inputs always give the same bytes (a resend after a crash is the identical message).

Header safety: every header value made from data (names, emails, titles, topics) goes through
``header_text`` (control characters, CR and LF removed) and addresses through
``email.headerregistry.Address`` (which refuses anything but a plain address), so no
user-supplied field can add or split a header.
"""

from __future__ import annotations

import datetime as dt
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default as _default_policy
from email.utils import format_datetime, getaddresses

from paperwire.digest.model import Digest, MailIdentity
from paperwire.digest.render import heading, render_html, render_text
from paperwire.digest.topics import clean_text
from paperwire.markup.mathtext import readable

_SUBJECT_MAX = 150
# Long unbreakable values (the List-Unsubscribe URL) stay on one line instead of being
# folded after the colon; RFC 5322's hard limit is 998 characters.
POLICY = _default_policy.clone(max_line_length=998)


class ComposeError(ValueError):
    """A value that cannot be put in a header (e.g. an address with a line break)."""


def header_text(value: str | None, limit: int = 200) -> str:
    text = clean_text(value or "")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _address(email: str, name: str | None = None) -> Address:
    if any(ch in email for ch in '\r\n\t <>,;"\x00') or email.count("@") != 1:
        raise ComposeError(f"not a plain email address: {email!r}")
    local, domain = email.split("@")
    try:
        return Address(display_name=header_text(name, 80), username=local, domain=domain)
    except (ValueError, IndexError) as exc:
        raise ComposeError(f"not a usable email address: {email!r}") from exc


def _configured_address(raw: str, what: str) -> Address:
    pairs = getaddresses([raw])
    if len(pairs) != 1 or not pairs[0][1]:
        raise ComposeError(
            f"{what} must be one address such as 'Paperwire <news@example.org>', not {raw!r}"
        )
    name, addr = pairs[0]
    return _address(addr, name)


def message_id(kind: str, key: str, domain: str) -> str:
    """A deterministic Message-ID: a resend of the same delivery carries the same id, so mail
    clients that de-duplicate by Message-ID show one copy."""
    safe = "".join(ch if ch.isalnum() or ch in ".-_" else "." for ch in key)
    dom = "".join(ch for ch in domain if ch.isalnum() or ch in ".-") or "paperwire.invalid"
    return f"<{kind}.{safe}@{dom}>"


def sender_domain(ident: MailIdentity) -> str:
    return _configured_address(ident.mail_from, "MAIL_FROM").domain


def _base(
    ident: MailIdentity, to: Address, subject: str, date: dt.datetime, msg_id: str
) -> EmailMessage:
    if date.tzinfo is None:
        raise ComposeError("the Date must be timezone-aware")
    msg = EmailMessage(policy=POLICY)
    msg["From"] = _configured_address(ident.mail_from, "MAIL_FROM")
    msg["To"] = to
    if ident.reply_to:
        msg["Reply-To"] = _configured_address(ident.reply_to, "MAIL_REPLY_TO")
    msg["Subject"] = header_text(subject, _SUBJECT_MAX)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = msg_id
    msg["Auto-Submitted"] = "auto-generated"
    return msg


def compose_digest(
    d: Digest, ident: MailIdentity, *, date: dt.datetime, msg_id: str
) -> EmailMessage:
    """The digest as a multipart/alternative message with RFC 8058 one-click unsubscribe."""
    to = _address(d.recipient_email, d.recipient_name)
    subject = heading(d, ident.site_name)
    top = d.trending[0].title if d.trending else (d.personal[0].paper.title if d.personal else "")
    if top:
        subject = f"{subject}: {readable(top)}"
    msg = _base(ident, to, subject, date, msg_id)
    unsub = [f"<{header_text(d.unsubscribe_url, 900)}>"]
    if ident.unsubscribe_mailto:
        mailto = _configured_address(ident.unsubscribe_mailto, "MAIL_UNSUBSCRIBE_MAILTO")
        unsub.append(f"<mailto:{mailto.addr_spec}?subject=unsubscribe>")
    msg["List-Unsubscribe"] = ", ".join(unsub)
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    list_domain = sender_domain(ident)
    msg["List-Id"] = (
        f"{header_text(ident.site_name, 60)} {d.edition} digest <{d.edition}.digest.{list_domain}>"
    )
    msg["Precedence"] = "bulk"
    msg["X-Paperwire-Edition"] = f"{d.edition} {header_text(d.period, 20)}"
    # base64 rather than quoted-printable: encoded in C, which matters at 10,000 messages a
    # run, and every client decodes it.
    msg.set_content(render_text(d, ident), cte="base64")
    msg.add_alternative(render_html(d, ident), subtype="html", cte="base64")
    return msg


def compose_confirmation(
    email: str, confirm_url: str, ident: MailIdentity, *, date: dt.datetime, msg_id: str
) -> EmailMessage:
    """The double opt-in request: one link, nothing else is ever sent before it is used."""
    from html import escape

    msg = _base(
        ident, _address(email), f"Confirm your {ident.site_name} digest subscription", date, msg_id
    )
    text = (
        f"Someone (hopefully you) asked to receive the {ident.site_name} paper digest at "
        f"{email}.\n\nConfirm here:\n{confirm_url}\n\nIf it was not you, ignore this "
        "message: nothing will be sent unless the link is used.\n"
    )
    html = (
        f'<!DOCTYPE html><html><body style="font-family:Arial,sans-serif;font-size:15px;'
        f'color:#111827"><p>Someone (hopefully you) asked to receive the '
        f"{escape(ident.site_name)} paper digest at {escape(email)}.</p>"
        f'<p><a href="{escape(confirm_url)}" style="background:#2563eb;color:#ffffff;'
        f'padding:10px 16px;border-radius:6px;text-decoration:none;display:inline-block">'
        f'Confirm subscription</a></p><p style="color:#6b7280;font-size:13px">If it was not '
        f"you, ignore this message: nothing will be sent unless the link is used.</p>"
        f"</body></html>"
    )
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg
