"""Email subscriptions: double opt-in, preferences, unsubscribe, failure tracking.

Invariants:
- Emails are stored lower-cased and validated by ``normalize_email``: no whitespace, control
  characters, commas or angle brackets can reach a mail header through an address.
- Nothing is mailed to a subscription unless ``status == 'active'`` (double opt-in: a new
  subscription is ``pending`` until its confirmation link is followed).
- ``token_version`` is bumped whenever an address subscribes again after leaving, so links
  mailed before are void.
- Topics are a list of ``{"kind": "query"|"category"|"author", "value": str,
  "threshold": float|None}`` already validated by ``digest.topics.validate_topics``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from paperwire.errors import BadInput, NotFound
from paperwire.store.db import flush_unique, rowcount
from paperwire.store.models import Subscription, utcnow

EDITIONS = ("daily", "weekly", "both")
MAX_PAPERS_RANGE = (1, 50)

# Deliberately stricter than RFC 5322: a local part of common characters and a dotted domain.
# Quoted local parts and IP literals are legal but never needed for a newsletter, and every
# character allowed here is safe inside a header.
_EMAIL = re.compile(
    r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
    r"(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$"
)


def normalize_email(raw: str) -> str:
    """The address lower-cased, or ``BadInput`` saying what is wrong with it."""
    if raw is None:
        raise BadInput("an email address is required")
    if any(ch in raw for ch in "\r\n\x00"):
        raise BadInput("the email address contains a line break")
    email = raw.strip().lower()
    if not email:
        raise BadInput("an email address is required")
    if len(email) > 254:
        raise BadInput("the email address is too long")
    if not _EMAIL.match(email) or ".." in email:
        raise BadInput(f"{email!r} is not a valid email address")
    return email


def get(session: Session, subscription_id: int) -> Subscription:
    sub = session.get(Subscription, subscription_id)
    if sub is None:
        raise NotFound(f"no subscription {subscription_id}")
    return sub


def get_by_email(session: Session, email: str) -> Subscription | None:
    return session.scalar(select(Subscription).where(Subscription.email == normalize_email(email)))


def get_by_user(session: Session, user_id: int) -> Subscription | None:
    return session.scalar(select(Subscription).where(Subscription.user_id == user_id))


def proven_address(session: Session, user_id: int) -> str | None:
    """The address of the account's linked, active subscription (linking requires following
    the link mailed to it, so the account proved it reads the address), or None."""
    return session.scalar(
        select(Subscription.email).where(
            Subscription.user_id == user_id, Subscription.status == "active"
        )
    )


def subscribe(
    session: Session,
    email: str,
    *,
    editions: str | None = None,
    topics: list[dict[str, Any]] | None = None,
    max_papers: int | None = None,
) -> tuple[Subscription, bool]:
    """Create or revive a subscription; returns (subscription, needs_confirmation).

    An active subscription stays active (needs_confirmation False); a pending one gets a new
    confirmation mail; an unsubscribed or paused one goes back to pending with a new
    ``token_version``. No account is linked here: asking for an address proves nothing
    (``link_user`` does that once the address is proven).
    """
    email = normalize_email(email)
    sub = session.scalar(select(Subscription).where(Subscription.email == email))
    if sub is None:
        sub = Subscription(
            email=email,
            user_id=None,
            status="pending",
            editions=editions or "daily",
            topics=topics or [],
            max_papers=max_papers or 10,
            token_version=0,
            failure_count=0,
        )
        if not flush_unique(session, sub):
            # Two requests for the same address raced; the other one created it.
            raced = session.scalar(select(Subscription).where(Subscription.email == email))
            assert raced is not None, "the unique email that refused our insert"
            return raced, raced.status != "active"
        return sub, True
    if sub.status == "active":
        return sub, False
    if sub.status in ("unsubscribed", "paused"):
        sub.status = "pending"
        sub.token_version += 1
        sub.failure_count = 0
        sub.last_error = None
        sub.unsubscribed_at = None
    if editions:
        sub.editions = editions
    if topics is not None:
        sub.topics = topics
    if max_papers:
        sub.max_papers = max_papers
    session.flush()
    return sub, True


def _checked(session: Session, subscription_id: int, token_version: int) -> Subscription:
    sub = session.get(Subscription, subscription_id)
    if sub is None or sub.token_version != token_version:
        # A link for a deleted subscription, or one mailed before a resubscribe.
        raise NotFound("this link is no longer valid")
    return sub


def confirm(session: Session, subscription_id: int, token_version: int) -> Subscription:
    """Activate (idempotent). A paused subscription is reactivated: the person asked again."""
    sub = _checked(session, subscription_id, token_version)
    if sub.status == "unsubscribed":
        raise NotFound("this address has unsubscribed; subscribe again to get a new link")
    if sub.status != "active":
        sub.status = "active"
        sub.confirmed_at = sub.confirmed_at or utcnow()
        sub.failure_count = 0
        sub.last_error = None
    session.flush()
    return sub


def link_user(
    session: Session, subscription_id: int, token_version: int, user_id: int
) -> Subscription:
    """Make ``user_id`` the account of this subscription. Call only with proof that the
    account's holder reads the subscription's address (a confirmation link mailed there,
    followed while signed in). An account manages one subscription: any other it had is
    unlinked (it changed address)."""
    sub = _checked(session, subscription_id, token_version)
    session.execute(
        update(Subscription)
        .where(Subscription.user_id == user_id, Subscription.id != sub.id)
        .values(user_id=None)
    )
    sub.user_id = user_id
    session.flush()
    return sub


def unsubscribe(session: Session, subscription_id: int, token_version: int) -> Subscription:
    """Stop all mail now (idempotent)."""
    sub = _checked(session, subscription_id, token_version)
    if sub.status != "unsubscribed":
        sub.status = "unsubscribed"
        sub.unsubscribed_at = utcnow()
    session.flush()
    return sub


def update_preferences(
    session: Session,
    subscription_id: int,
    token_version: int,
    *,
    editions: str,
    max_papers: int,
    topics: list[dict[str, Any]],
) -> Subscription:
    if editions not in EDITIONS:
        raise BadInput(f"edition must be one of {', '.join(EDITIONS)}")
    lo, hi = MAX_PAPERS_RANGE
    if not lo <= int(max_papers) <= hi:
        raise BadInput(f"number of papers must be between {lo} and {hi}")
    sub = _checked(session, subscription_id, token_version)
    sub.editions = editions
    sub.max_papers = int(max_papers)
    sub.topics = list(topics)
    session.flush()
    return sub


def active_for_edition(session: Session, edition: str) -> list[tuple[int, str]]:
    """(id, email) of active subscriptions that receive this edition, by id."""
    rows = session.execute(
        select(Subscription.id, Subscription.email)
        .where(
            Subscription.status == "active",
            or_(Subscription.editions == edition, Subscription.editions == "both"),
        )
        .order_by(Subscription.id)
    )
    return [(r[0], r[1]) for r in rows]


def load_many(session: Session, ids: Sequence[int]) -> dict[int, Subscription]:
    found: dict[int, Subscription] = {}
    for start in range(0, len(ids), 900):
        chunk = list(ids[start : start + 900])
        for sub in session.scalars(select(Subscription).where(Subscription.id.in_(chunk))):
            found[sub.id] = sub
    return found


def record_success(session: Session, subscription_ids: Iterable[int]) -> None:
    ids = list(subscription_ids)
    for start in range(0, len(ids), 900):
        session.execute(
            update(Subscription)
            .where(Subscription.id.in_(ids[start : start + 900]), Subscription.failure_count != 0)
            .values(failure_count=0, last_error=None)
        )


def record_permanent_failure(
    session: Session, subscription_id: int, error: str, *, pause_after: int
) -> Subscription:
    """Count a permanent (5xx) failure; pause the subscription after ``pause_after`` in a row."""
    sub = get(session, subscription_id)
    sub.failure_count = (sub.failure_count or 0) + 1
    sub.last_error = error[:1000]
    if sub.status == "active" and pause_after > 0 and sub.failure_count >= pause_after:
        sub.status = "paused"
    session.flush()
    return sub


def purge_unconfirmed(session: Session, created_before: dt.datetime) -> int:
    """Delete pending (never confirmed) subscriptions created before ``created_before``
    (naive UTC): their confirmation link has expired, so nothing can activate them."""
    return (
        rowcount(
            session.execute(
                delete(Subscription).where(
                    Subscription.status == "pending", Subscription.created_at < created_before
                )
            )
        )
        or 0
    )


def counts_by_status(session: Session) -> dict[str, int]:
    from sqlalchemy import func

    return {
        status: n
        for status, n in session.execute(
            select(Subscription.status, func.count()).group_by(Subscription.status)
        )
    }


def display_names(session: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    from paperwire.store.models import User

    ids = [u for u in set(user_ids) if u is not None]
    out: dict[int, str] = {}
    for start in range(0, len(ids), 900):
        for uid, display, username in session.execute(
            select(User.id, User.display_name, User.username).where(
                User.id.in_(ids[start : start + 900])
            )
        ):
            out[uid] = display or username
    return out
