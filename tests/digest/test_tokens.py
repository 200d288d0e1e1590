"""Signed, expiring link tokens."""

from __future__ import annotations

import time

import pytest

from paperwire.digest.tokens import TokenError, make_token, max_age_seconds, verify_token

KEY = "secret"


def test_roundtrip():
    token = make_token(KEY, "confirm", 42, 3)
    p = verify_token(KEY, "confirm", token, max_age=60)
    assert (p.subscription_id, p.token_version) == (42, 3)


@pytest.mark.parametrize(
    "mutate",
    [
        # Flip the signature's first character: its last one carries padding bits that base64
        # decoding drops, so changing it can leave the signature bytes (and validity) unchanged.
        lambda t: (
            t[: t.rindex(".") + 1]
            + ("A" if t[t.rindex(".") + 1] != "A" else "B")
            + t[t.rindex(".") + 2 :]
        ),
        lambda t: t.replace("42-3", "43-3", 1),  # another subscription, same signature
        lambda t: t[:10],
        lambda t: "",
        lambda t: "not.a.token",
    ],
)
def test_tampered_tokens_are_invalid(mutate):
    token = make_token(KEY, "unsubscribe", 42, 3)
    with pytest.raises(TokenError) as err:
        verify_token(KEY, "unsubscribe", mutate(token), max_age=60)
    assert err.value.reason == "invalid"


def test_other_key_is_invalid():
    with pytest.raises(TokenError):
        verify_token("other", "confirm", make_token(KEY, "confirm", 1, 0), max_age=60)


@pytest.mark.parametrize(
    "made,used",
    [("confirm", "unsubscribe"), ("unsubscribe", "confirm"), ("preferences", "confirm")],
)
def test_purposes_do_not_mix(made, used):
    with pytest.raises(TokenError):
        verify_token(KEY, used, make_token(KEY, made, 1, 0), max_age=60)


def test_expired_token():
    token = make_token(KEY, "confirm", 1, 0)
    with pytest.raises(TokenError) as err:
        verify_token(KEY, "confirm", token, max_age=3600, now=time.time() + 3601)
    assert err.value.reason == "expired"
    verify_token(KEY, "confirm", token, max_age=3600, now=time.time() + 3500)


def test_unsubscribe_links_live_longer_than_confirmation_links():
    assert max_age_seconds("unsubscribe", 14) > max_age_seconds("confirm", 14) == 14 * 86400
