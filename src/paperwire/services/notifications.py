"""Notifications as actions: read them, mark them read, choose mail, prove the address,
unsubscribe. The web pages and jobs call these; SQL stays in ``store/notifications.py``.

Invariants:
- **No mail inside a transaction or a request.** ``set_email`` returns the confirmation to
  mail (``ConfirmMail``) and the caller sends it after its transaction (the web as a
  background task).
- **Mail only to a proven address.** An account's address is not verified, so switching mail
  on for an address not yet proven mails a confirmation link there and nothing else; mail
  starts when the link is followed (and stops if the account's address changes).
- **Limits**: at most ``confirm_mails_per_day`` confirmation mails per member a day, and
  none again within ``confirm_mail_interval_minutes`` (the page says the same either way).
- **Unsubscribe** (the link in every notification mail, RFC 8058 one-click) switches mail
  off and voids every link mailed before; it never needs a sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from paperwire.config import Settings
from paperwire.digest.tokens import (  # noqa: F401 - TokenError re-exported for callers
    MemberTokenPayload,
    TokenError,
    address_hash,
    max_age_seconds,
    verify_member_token,
)
from paperwire.errors import BadInput
from paperwire.store import notifications as store
from paperwire.store import ratelimit
from paperwire.store.db import Database
from paperwire.store.models import User


@dataclass(frozen=True)
class ConfirmMail:
    email: str
    user_id: int
    token_version: int


@dataclass(frozen=True)
class EmailChoice:
    on: bool  # mail goes now
    waiting: bool  # a confirmation link was (or would have been) mailed
    confirmation: ConfirmMail | None = None


def set_email(settings: Settings, db: Database, user: User, on: bool) -> EmailChoice:
    """Switch notification mail on or off for ``user`` (module invariants)."""
    with db.session() as s:
        if not on:
            store.set_email(s, user.id, False)
            return EmailChoice(False, False)
        if not user.email:
            raise BadInput("your account has no email address; add one first")
        prefs = store.get_prefs(s, user.id)
        if prefs.confirmed_email == user.email.lower():
            store.set_email(s, user.id, True)
            return EmailChoice(True, False)
        version = prefs.token_version
    key = f"notify-confirm:u:{user.id}"
    minute = ratelimit.hit(
        db, key + ":interval", 1, max(1, settings.confirm_mail_interval_minutes) * 60.0
    )
    day = (
        ratelimit.hit(db, key + ":day", settings.confirm_mails_per_day, 86400.0)
        if minute.allowed
        else minute
    )
    if not (minute.allowed and day.allowed):
        return EmailChoice(False, True)
    return EmailChoice(False, True, ConfirmMail(user.email, user.id, version))


def deliver(settings: Settings, mail: ConfirmMail | None) -> None:
    """Send a confirmation returned by ``set_email`` (after the caller's transaction)."""
    if mail is None:
        return
    from paperwire.digest.notify import send_confirmation

    send_confirmation(
        settings, email=mail.email, user_id=mail.user_id, token_version=mail.token_version
    )


def confirm(settings: Settings, db: Database, token: str) -> bool:
    """Follow a confirmation link: mail goes to the proven address from now on. Raises
    ``TokenError`` for a bad, expired or void link."""
    payload = verify_member_token(
        settings.effective_secret_key(),
        "notify-confirm",
        token,
        max_age=max_age_seconds("confirm", settings.token_max_age_days),
    )
    with db.session() as s:
        from paperwire.store.users import get_user

        user = get_user(s, payload.user_id)
        if user is None or not user.email or address_hash(user.email) != payload.address_hash:
            raise TokenError(
                "invalid", "This link is for an address that is no longer the account's."
            )
        if store.confirm_email(s, payload.user_id, payload.token_version, user.email) is None:
            raise TokenError(
                "invalid", "This link is no longer valid; ask for a new one on your profile."
            )
    return True


def check_unsubscribe(settings: Settings, token: str) -> MemberTokenPayload:
    return verify_member_token(
        settings.effective_secret_key(),
        "notify-unsubscribe",
        token,
        max_age=max_age_seconds("unsubscribe", settings.token_max_age_days),
    )


def unsubscribe(settings: Settings, db: Database, token: str) -> bool:
    """One-click unsubscribe: True when mail was on. ``TokenError`` for a void link."""
    payload = check_unsubscribe(settings, token)
    with db.session() as s:
        result = store.unsubscribe(s, payload.user_id, payload.token_version)
    if result is None:
        raise TokenError(
            "invalid", "This link is no longer valid (you may have unsubscribed already)."
        )
    return result


def overview(db: Database, user: User, *, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    with db.session() as s:
        items = store.list_for(s, user.id, limit=limit, offset=offset)
        unread = store.unread_count(s, user.id)
        prefs = store.get_prefs(s, user.id)
        email_on = bool(prefs.email and user.email and prefs.confirmed_email == user.email.lower())
    return {"items": items, "unread": unread, "email_on": email_on}


def unread_count(db: Database, user: User) -> int:
    with db.session() as s:
        return store.unread_count(s, user.id)


def mark_read(db: Database, user: User, ids: list[int] | None = None) -> int:
    with db.session() as s:
        return store.mark_read(s, user.id, ids)
