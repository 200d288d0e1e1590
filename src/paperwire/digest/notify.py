"""Notification mail: one batched message per member with the notifications gathered since
the last one (replies, @mentions, comments on their papers), over the digests' transport (SMTP
or the local outbox), with the digests' exactly-once ledger.

Guarantee (as ``digest/send.py``'s): every planned mail has one ``notification_mails`` row,
claimed (``pending`` -> ``sending``, committed) before its message goes out and marked
``sent`` in a one-row transaction right after the server's 250. A rerun never sends a
``sent`` row again. A crash between the 250 and that commit leaves the row ``sending``; a
rerun takes it over (claimer known dead, or after ``digest_sending_lease_seconds``) and sends
the same mail under the same Message-ID (``<notify.{id}@domain>``): into the outbox that is a
no-op (``contains``), over SMTP a possible duplicate that clients fold by Message-ID. The
contents are the notifications pointing at the row, fixed when it was planned, so the resend
is the same mail. Temporary failures go back to ``pending`` for the next run; a permanent
refusal marks the row ``failed``.

Composing is pure (``compose_notification_mail``): data in, message out.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from html import escape
from types import ModuleType

from paperwire.config import Settings
from paperwire.digest.compose import _address, _base, header_text, message_id, sender_domain
from paperwire.digest.model import MailIdentity
from paperwire.digest.transport import PermanentFailure, TemporaryFailure, Transport
from paperwire.markup.mathtext import readable
from paperwire.store.db import Database
from paperwire.store.notifications import ClaimedMail

log = logging.getLogger(__name__)
BATCH = 50


@dataclass(frozen=True)
class MailItem:
    kind: str  # reply | mention | paper
    reason: str | None  # authored | submitted | saved (kind "paper")
    actor: str | None
    paper_title: str
    excerpt: str
    url: str  # the comment on this site


def describe(item: MailItem) -> str:
    """One line saying what happened, e.g. "bob replied to your comment on <title>"."""
    who = item.actor or "A former member"
    title = readable(item.paper_title)
    if item.kind == "reply":
        return f"{who} replied to your comment on “{title}”"
    if item.kind == "mention":
        return f"{who} mentioned you on “{title}”"
    why = {
        "authored": "your paper",
        "submitted": "a paper you submitted",
        "saved": "a paper you saved",
    }.get(item.reason or "", "a paper you follow")
    return f"{who} commented on {why}, “{title}”"


def compose_notification_mail(
    *,
    email: str,
    name: str | None,
    items: list[MailItem],
    notifications_url: str,
    unsubscribe_url: str,
    ident: MailIdentity,
    date: dt.datetime,
    msg_id: str,
) -> EmailMessage:
    """The batched mail, text + HTML, with RFC 8058 one-click unsubscribe (of notification
    mail only: the notifications page keeps working)."""
    n = len(items)
    subject = describe(items[0]) if n == 1 else f"{n} new notifications on {ident.site_name}"
    msg = _base(ident, _address(email, name), subject, date, msg_id)
    msg["List-Unsubscribe"] = f"<{header_text(unsubscribe_url, 900)}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["List-Id"] = (
        f"{header_text(ident.site_name, 60)} notifications <notifications.{sender_domain(ident)}>"
    )
    lines = [f"Hello {header_text(name, 80) or ''},".replace(" ,", ","), ""]
    for item in items:
        lines += [describe(item) + ":"]
        if item.excerpt:
            lines += ["  " + item.excerpt]
        lines += ["  " + item.url, ""]
    lines += [
        f"All your notifications: {notifications_url}",
        f"Stop these emails: {unsubscribe_url}",
        "",
    ]
    html = [
        '<!DOCTYPE html><html><body style="font-family:Arial,sans-serif;font-size:15px;'
        'color:#111827">'
    ]
    for item in items:
        html.append(
            f'<p style="margin:16px 0 4px"><a href="{escape(item.url)}">'
            f"{escape(describe(item))}</a></p>"
        )
        if item.excerpt:
            html.append(
                f'<blockquote style="margin:0 0 0 8px;padding-left:8px;border-left:3px '
                f'solid #e5e7eb;color:#374151">{escape(item.excerpt)}</blockquote>'
            )
    html.append(
        f'<p style="margin-top:24px"><a href="{escape(notifications_url)}">All your '
        f'notifications</a></p><p style="color:#6b7280;font-size:13px">You get this '
        f"because you asked for notification emails on {escape(ident.site_name)}. "
        f'<a href="{escape(unsubscribe_url)}">Stop these emails</a>.</p></body></html>'
    )
    msg.set_content("\n".join(lines))
    msg.add_alternative("".join(html), subtype="html")
    return msg


def compose_notify_confirmation(
    email: str, confirm_url: str, ident: MailIdentity, *, date: dt.datetime, msg_id: str
) -> EmailMessage:
    """The proof that the member reads the address: nothing else is mailed before it."""
    msg = _base(
        ident, _address(email), f"Confirm notification emails from {ident.site_name}", date, msg_id
    )
    msg.set_content(
        f"You asked {ident.site_name} to email you about replies, mentions and "
        f"comments on your papers, at {email}.\n\nConfirm here:\n{confirm_url}\n\n"
        "If it was not you, ignore this message: nothing is sent unless the link "
        "is used.\n"
    )
    msg.add_alternative(
        f'<!DOCTYPE html><html><body style="font-family:Arial,sans-serif;font-size:15px">'
        f"<p>You asked {escape(ident.site_name)} to email you about replies, mentions and "
        f'comments on your papers, at {escape(email)}.</p><p><a href="{escape(confirm_url)}">'
        f'Confirm notification emails</a></p><p style="color:#6b7280;font-size:13px">If it was '
        f"not you, ignore this message: nothing is sent unless the link is used.</p>"
        f"</body></html>",
        subtype="html",
    )
    return msg


# --- links -----------------------------------------------------------------------------------


def member_url(
    settings: Settings, purpose: str, user_id: int, token_version: int, address: str = ""
) -> str:
    from paperwire.digest.tokens import make_member_token

    token = make_member_token(
        settings.effective_secret_key(), purpose, user_id, token_version, address
    )
    path = {"notify-confirm": "confirm", "notify-unsubscribe": "unsubscribe"}[purpose]
    return f"{settings.base_url.rstrip('/')}/notifications/{path}/{token}"


# --- sending ---------------------------------------------------------------------------------


@dataclass
class NotifySummary:
    planned: int = 0
    sent: int = 0
    resent: int = 0  # taken over from a dead sender and sent again (maybe a duplicate)
    skipped: int = 0
    failed: int = 0
    retry_later: int = 0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"notification mail: {self.planned} planned, {self.sent} sent "
            f"({self.resent} resent after an interrupted run), {self.skipped} skipped, "
            f"{self.failed} failed, {self.retry_later} to retry"
        )


def send_notifications(
    settings: Settings,
    db: Database,
    transport: Transport,
    *,
    progress: bool = True,
    now: dt.datetime | None = None,
    worker: str | None = None,
    after_send: Callable[[int], object] | None = None,
) -> NotifySummary:
    """Plan the mails now due and send every claimable one (see the module guarantee).
    ``after_send(mail_id)`` is called between the server's acceptance and the ``sent`` commit
    (tests use it to crash there)."""
    from tqdm import tqdm

    from paperwire.digest.claimers import claimer_is_dead, worker_id
    from paperwire.store import notifications as store

    worker = worker or worker_id()
    summary = NotifySummary()
    with db.session() as s:
        summary.planned = store.plan_mails(s, now=now)
        total = store.counts(s).get("pending", 0) + store.counts(s).get("sending", 0)
    ident = MailIdentity.from_settings(settings)
    domain = sender_domain(ident)
    base = settings.base_url.rstrip("/")
    skip: set[int] = set()
    bar = tqdm(
        total=total,
        disable=not progress,
        unit="mail",
        desc="notification mail",
        file=sys.stderr,
        dynamic_ncols=True,
    )
    try:
        while True:
            with db.session() as s:
                claimed = store.claim(
                    s,
                    worker=worker,
                    limit=BATCH,
                    lease_seconds=settings.digest_sending_lease_seconds,
                    is_dead=claimer_is_dead,
                    exclude=skip,
                )
            if not claimed:
                break
            for c in claimed:
                skip.add(c.id)
                bar.update(1)
                _one(
                    settings,
                    db,
                    store,
                    c,
                    transport,
                    worker,
                    ident,
                    domain,
                    base,
                    summary,
                    after_send,
                )
    finally:
        bar.close()
    return summary


def _one(
    settings: Settings,
    db: Database,
    store: ModuleType,
    c: ClaimedMail,
    transport: Transport,
    worker: str,
    ident: MailIdentity,
    domain: str,
    base: str,
    summary: NotifySummary,
    after_send: Callable[[int], object] | None,
) -> None:
    with db.session() as s:
        email, name, wants, version = store.recipient(s, c.user_id)
        views = store.mail_contents(s, c.id)
    if not wants or not email or not views:
        with db.session() as s:
            store.finish(
                s, c.id, worker, "skipped", "mail switched off" if not wants else "nothing to send"
            )
        summary.skipped += 1
        return
    items = [
        MailItem(
            v.kind,
            v.reason,
            v.actor,
            v.paper_title,
            v.excerpt,
            f"{base}/papers/{v.paper_id}#comment-{v.comment_id}",
        )
        for v in views
    ]
    msg = compose_notification_mail(
        email=email,
        name=name,
        items=items,
        notifications_url=f"{base}/notifications",
        unsubscribe_url=member_url(settings, "notify-unsubscribe", c.user_id, version),
        ident=ident,
        date=dt.datetime.now(dt.UTC),
        msg_id=message_id("notify", str(c.id), domain),
    )
    if c.interrupted:
        contains = getattr(transport, "contains", None)
        if contains is not None and contains(msg):
            store.mark_sent_now(db.engine, c.id, worker)
            summary.sent += 1
            return
        log.warning(
            "notification mail %s: resending after an interrupted run with the same "
            "Message-ID (the earlier attempt may have been delivered)",
            c.id,
        )
        summary.resent += 1
    try:
        transport.send(msg)
    except TemporaryFailure as exc:
        with db.session() as s:
            store.finish(s, c.id, worker, "pending", f"temporary: {exc}")
        summary.retry_later += 1
        summary.errors.append(str(exc))
        return
    except PermanentFailure as exc:
        with db.session() as s:
            store.finish(s, c.id, worker, "failed", f"permanent: {exc}")
        summary.failed += 1
        summary.errors.append(str(exc))
        return
    if after_send is not None:
        after_send(c.id)
    store.mark_sent_now(db.engine, c.id, worker)
    summary.sent += 1


def send_confirmation(
    settings: Settings,
    *,
    email: str,
    user_id: int,
    token_version: int,
    transport: Transport | None = None,
) -> None:
    """Mail the link that proves the member reads ``email`` (raises the transport's
    failures). Call after the caller's transaction."""
    import uuid

    from paperwire.digest.transport import open_transport

    ident = MailIdentity.from_settings(settings)
    msg = compose_notify_confirmation(
        email,
        member_url(settings, "notify-confirm", user_id, token_version, email),
        ident,
        date=dt.datetime.now(dt.UTC),
        msg_id=message_id(
            "notify-confirm", f"{user_id}.{uuid.uuid4().hex[:12]}", sender_domain(ident)
        ),
    )
    if transport is not None:
        transport.send(msg)
        return
    with open_transport(settings) as t:
        t.send(msg)
