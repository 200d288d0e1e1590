"""Digest subscriptions as actions: subscribe (double opt-in), confirm, preferences,
unsubscribe. The web pages, the CLI and jobs call these; SQL stays in ``store/``.

Invariants:
- **No mail inside a transaction or a request.** An action that needs a mail returns it as a
  ``ConfirmationMail``; the caller hands it to ``deliver`` after the action's transaction
  has committed (the web after its response, as a background task; the CLI at once).
- **Double opt-in.** Nothing is sent to an address before its confirmation link is used.
- **An account reaches only a subscription whose address it has proven**: the link between
  an account and a subscription is made only when the confirmation link mailed to that
  address is followed by a browser signed in to the account (``confirm(user=...)``). An
  account's own e-mail address is never trusted for this: it is not verified.
- **Limits on mail per address and per account** (``confirm_mail_interval_minutes``,
  ``confirm_mails_per_day``): asking again within the interval sends nothing, and the
  answer is the same either way, so the page tells no stranger whether an address reads the
  digest or how often it was asked for.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

# TokenError is re-exported: callers catch it without importing digest internals.
from paperwire.config import Settings
from paperwire.digest.tokens import (  # noqa: F401 - TokenError re-exported for callers
    TokenError,
    TokenPayload,
    make_token,
    max_age_seconds,
    verify_token,
)
from paperwire.errors import BadInput, NotFound
from paperwire.store import ratelimit
from paperwire.store import subscriptions as store
from paperwire.store.db import Database
from paperwire.store.models import Subscription, User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConfirmationMail:
    """A confirmation link to mail to ``email`` (also sent to link an active subscription to
    the account that asked, once that account proves it reads the address)."""

    email: str
    subscription_id: int
    token_version: int


@dataclass(frozen=True)
class SubscribeResult:
    email: str
    mail: ConfirmationMail | None  # None: nothing to send now
    limited: bool = False  # a mail was due but a per-address/account limit held it


# --- tokens ---------------------------------------------------------------------------------
def token(settings: Settings, purpose: str, subscription_id: int, token_version: int) -> str:
    return make_token(settings.effective_secret_key(), purpose, subscription_id, token_version)


def verify(settings: Settings, purpose: str, value: str) -> TokenPayload:
    """The token's payload, or ``TokenError`` (tampered, expired, wrong purpose)."""
    return verify_token(
        settings.effective_secret_key(),
        purpose,
        value,
        max_age=max_age_seconds(purpose, settings.token_max_age_days),
    )


# --- subscribe ------------------------------------------------------------------------------
def request(
    settings: Settings,
    db: Database,
    email: str,
    *,
    user: User | None = None,
    editions: str = "daily",
    topics: list[dict[str, Any]] | None = None,
    limited: bool = True,
) -> SubscribeResult:
    """Someone asks for the digest at ``email`` (``user``: the signed-in account, if any).

    Creates or revives the subscription (pending until confirmed). A confirmation mail is
    due for a pending address, and for an active one that ``user`` is not linked to yet (so
    the account can prove the address). ``limited=False`` (the operator's CLI) skips the
    per-address and per-account limits. ``BadInput`` for an unusable address."""
    if editions not in store.EDITIONS:
        editions = "daily"
    with db.session() as s:
        sub, needs = store.subscribe(s, email, editions=editions, topics=topics)
        if not needs and user is not None and sub.user_id != user.id:
            needs = True
        result = SubscribeResult(
            sub.email, ConfirmationMail(sub.email, sub.id, sub.token_version) if needs else None
        )
    if result.mail is not None and limited and not _mail_allowed(settings, db, result.email, user):
        log.info(
            "confirmation mail for subscription %s held back by the per-address/account limit",
            result.mail.subscription_id,
        )
        return SubscribeResult(result.email, None, limited=True)
    return result


def _address_key(email: str) -> str:
    # Addresses are not stored in the rate table, only a digest of them.
    return hashlib.sha256(email.encode()).hexdigest()[:32]


def _mail_allowed(settings: Settings, db: Database, email: str, user: User | None) -> bool:
    """Count one mail against the address and the account; False when a limit is reached."""
    checks = []
    interval = settings.confirm_mail_interval_minutes
    per_day = settings.confirm_mails_per_day
    if interval > 0:
        checks.append((f"mail:addr:{_address_key(email)}", 1, interval * 60.0))
    if per_day > 0:
        checks.append((f"mail:addr-day:{_address_key(email)}", per_day, 86400.0))
        if user is not None:
            checks.append((f"mail:user:{user.id}", per_day, 86400.0))
    return all(ratelimit.hit(db, key, limit, window).allowed for key, limit, window in checks)


def deliver(
    settings: Settings, mail: ConfirmationMail, *, transport: Any = None, raise_errors: bool = False
) -> bool:
    """Send a confirmation mail (after the caller's transaction). Failures are logged (and
    raised with ``raise_errors``); True when the transport accepted it."""
    from paperwire.digest.mailer import send_confirmation
    from paperwire.digest.transport import (
        PermanentFailure,
        TemporaryFailure,
        TransportError,
        mail_target,
    )

    try:
        send_confirmation(
            settings,
            email=mail.email,
            subscription_id=mail.subscription_id,
            token_version=mail.token_version,
            transport=transport,
        )
    except (TemporaryFailure, PermanentFailure, TransportError) as exc:
        log.warning("confirmation mail for subscription %s failed: %s", mail.subscription_id, exc)
        if raise_errors:
            raise
        return False
    if transport is None and mail_target(settings) == "outbox":
        log.info(
            "confirmation mail for subscription %s delivered to the outbox (no SMTP "
            "server configured; see /admin/outbox)",
            mail.subscription_id,
        )
    return True


# --- confirm --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Confirmed:
    subscription_id: int
    email: str
    preferences_token: str
    linked: bool


def confirm(settings: Settings, db: Database, value: str, *, user: User | None = None) -> Confirmed:
    """Follow a confirmation link: activate the subscription and, when a signed-in ``user``
    follows it, link the subscription to that account (the link was mailed to the address:
    following it proves the address). ``TokenError``/``NotFound`` for a link that cannot be
    used; nothing changes then."""
    payload = verify(settings, "confirm", value)
    with db.session() as s:
        sub = store.confirm(s, payload.subscription_id, payload.token_version)
        linked = False
        if user is not None:
            store.link_user(s, sub.id, sub.token_version, user.id)
            linked = True
        return Confirmed(
            sub.id, sub.email, token(settings, "preferences", sub.id, sub.token_version), linked
        )


# --- preferences ----------------------------------------------------------------------------
def for_user(db: Database, user: User) -> Subscription | None:
    """The subscription linked to ``user`` (proven by a confirmation link), or None. Never
    looked up by the account's (unverified) e-mail address."""
    with db.session() as s:
        return store.get_by_user(s, user.id)


def load(settings: Settings, db: Database, value: str) -> Subscription:
    """The subscription a preferences link names (``TokenError``/``NotFound`` otherwise)."""
    payload = verify(settings, "preferences", value)
    with db.session() as s:
        sub = store.get(s, payload.subscription_id)
        if sub.token_version != payload.token_version:
            raise NotFound("old link")
        return sub


def get(db: Database, subscription_id: int) -> Subscription:
    with db.session() as s:
        return store.get(s, subscription_id)


def save_preferences(
    db: Database,
    subscription_id: int,
    token_version: int,
    *,
    editions: str,
    max_papers: str | int | None,
    topics: list[dict[str, Any]],
) -> Subscription:
    """Validate and store preferences; ``BadInput`` names what is wrong (nothing stored)."""
    from paperwire.digest.topics import validate_topics

    clean = validate_topics(topics)
    try:
        n = int(max_papers or 10)
    except (TypeError, ValueError):
        raise BadInput("number of papers must be a whole number") from None
    with db.session() as s:
        return store.update_preferences(
            s,
            subscription_id,
            token_version,
            editions=editions or "daily",
            max_papers=n,
            topics=clean,
        )


def unsubscribe(settings: Settings, db: Database, value: str) -> str:
    """Follow an unsubscribe link (idempotent); returns the address."""
    payload = verify(settings, "unsubscribe", value)
    with db.session() as s:
        return store.unsubscribe(s, payload.subscription_id, payload.token_version).email
