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

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

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


def _serializer(secret_key: str, purpose: str) -> URLSafeTimedSerializer:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    return URLSafeTimedSerializer(secret_key, salt=f"paperwire.subscription.{purpose}")


def make_token(secret_key: str, purpose: str, subscription_id: int, token_version: int) -> str:
    return _serializer(secret_key, purpose).dumps([int(subscription_id), int(token_version)])


def max_age_seconds(purpose: str, token_max_age_days: int) -> int:
    days = UNSUBSCRIBE_MAX_AGE_DAYS if purpose == "unsubscribe" else token_max_age_days
    return int(days * 86400)


def verify_token(secret_key: str, purpose: str, token: str, *, max_age: int,
                 now: float | None = None) -> TokenPayload:
    """Payload of a valid token; ``TokenError`` for anything else (never a partial result)."""
    ser = _serializer(secret_key, purpose)
    try:
        if now is None:
            data = ser.loads(token, max_age=max_age)
        else:
            # itsdangerous reads the clock through the signer; a fixed ``now`` lets tests
            # check expiry without sleeping.
            data, ts = ser.loads(token, max_age=None, return_timestamp=True)
            if now - ts.timestamp() > max_age:
                raise SignatureExpired("expired")
    except SignatureExpired as exc:
        raise TokenError("expired", "This link has expired.") from exc
    except (BadSignature, UnicodeError, ValueError) as exc:
        raise TokenError("invalid", "This link is not valid (it may have been cut or altered).") \
            from exc
    if (not isinstance(data, list) or len(data) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in data)):
        raise TokenError("invalid", "This link is not valid.")
    return TokenPayload(subscription_id=data[0], token_version=data[1])
