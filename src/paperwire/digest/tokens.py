"""Signed, expiring tokens for the links in emails (confirm, unsubscribe, preferences).

Invariants:
- A token names one subscription and that subscription's ``token_version`` at signing time;
  bumping ``token_version`` (unsubscribe, resubscribe, address change) voids every link mailed
  before, even unexpired ones.
- Each purpose has its own salt: an unsubscribe token can never confirm, and vice versa.
- ``verify`` either returns the payload or raises ``TokenError`` with a reason a person can
  read (tampered, expired, wrong purpose); it never performs an action itself.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

PURPOSES = ("confirm", "unsubscribe", "preferences")
# Unsubscribe links stay usable far longer than confirmation links: RFC 8058 one-click
# unsubscribe must keep working for as long as people keep old digests in their inbox.
UNSUBSCRIBE_MAX_AGE_DAYS = 365


class TokenError(Exception):
    """The link cannot be used; ``reason`` is 'invalid' or 'expired'."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class TokenPayload:
    subscription_id: int
    token_version: int


def _signer(secret_key: str, purpose: str) -> TimestampSigner:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    return TimestampSigner(secret_key, salt=f"paperwire.subscription.{purpose}")


def make_token(secret_key: str, purpose: str, subscription_id: int, token_version: int) -> str:
    """``<id>-<version>.<timestamp>.<signature>``: URL-safe, and cheap enough to make two per
    digest for 10,000 digests (a plain timestamp signer, no JSON or compression)."""
    value = f"{int(subscription_id)}-{int(token_version)}"
    return _signer(secret_key, purpose).sign(value).decode("ascii")


def max_age_seconds(purpose: str, token_max_age_days: int) -> int:
    days = UNSUBSCRIBE_MAX_AGE_DAYS if purpose == "unsubscribe" else token_max_age_days
    return int(days * 86400)


def require_canonical_signature(signer: TimestampSigner, token: str) -> None:
    """Raise ``BadSignature`` unless the token's signature is the exact text we would write.

    An HMAC-SHA1 signature is 20 bytes, 27 base64 characters: the last character carries two
    bits that base64 decoding ignores, so ``itsdangerous`` alone accepts up to four spellings
    of one signature. A link altered in its last character must read as altered.
    """
    signed, sep, signature = token.rpartition(".")
    if not sep:
        raise BadSignature("no signature")
    expected = signer.get_signature(signed).decode("ascii")
    if not hmac.compare_digest(expected, signature):
        raise BadSignature("signature does not match")


def _unsign(
    signer: TimestampSigner, token: str, *, max_age: int, now: float | None = None
) -> bytes:
    """The signed value of an unexpired ``token``; ``TokenError`` ("expired" / "invalid")."""
    try:
        require_canonical_signature(signer, token)
        value, ts = signer.unsign(token, return_timestamp=True)
        age = (now if now is not None else time.time()) - ts.timestamp()
        if age > max_age:
            raise SignatureExpired("expired")
    except SignatureExpired as exc:
        raise TokenError("expired", "This link has expired.") from exc
    except (BadSignature, UnicodeError, ValueError, TypeError) as exc:
        raise TokenError(
            "invalid", "This link is not valid (it may have been cut or altered)."
        ) from exc
    return value


def verify_token(
    secret_key: str, purpose: str, token: str, *, max_age: int, now: float | None = None
) -> TokenPayload:
    """Payload of a valid token; ``TokenError`` for anything else (never a partial result)."""
    value = _unsign(_signer(secret_key, purpose), token, max_age=max_age, now=now)
    try:
        sid, version = (int(x) for x in value.decode("ascii").split("-"))
    except (ValueError, UnicodeError):
        raise TokenError("invalid", "This link is not valid.") from None
    return TokenPayload(subscription_id=sid, token_version=version)


# --- members' notification mail ---------------------------------------------------------
# The same signed, expiring links for a member's notification mail (not a subscription):
# ``<user>-<version>-<address hash>``, where the version is the member's notification
# ``token_version`` (bumped on unsubscribe) and the hash ties a confirmation link to the
# address it was mailed to (an address changed since voids it).

MEMBER_PURPOSES = ("notify-confirm", "notify-unsubscribe")


@dataclass(frozen=True)
class MemberTokenPayload:
    user_id: int
    token_version: int
    address_hash: str


def address_hash(address: str) -> str:
    import hashlib

    return hashlib.sha256((address or "").strip().lower().encode("utf-8")).hexdigest()[:16]


def _member_signer(secret_key: str, purpose: str) -> TimestampSigner:
    if purpose not in MEMBER_PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    return TimestampSigner(secret_key, salt=f"paperwire.member.{purpose}")


def make_member_token(
    secret_key: str, purpose: str, user_id: int, token_version: int, address: str = ""
) -> str:
    value = f"{int(user_id)}-{int(token_version)}-{address_hash(address)}"
    return _member_signer(secret_key, purpose).sign(value).decode("ascii")


def verify_member_token(
    secret_key: str, purpose: str, token: str, *, max_age: int, now: float | None = None
) -> MemberTokenPayload:
    """Payload of a valid member token; ``TokenError`` for anything else."""
    value = _unsign(_member_signer(secret_key, purpose), token, max_age=max_age, now=now)
    try:
        uid, version, digest = value.decode("ascii").split("-")
        return MemberTokenPayload(int(uid), int(version), digest)
    except (ValueError, UnicodeError):
        raise TokenError("invalid", "This link is not valid.") from None
