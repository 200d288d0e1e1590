"""store/subscriptions.py: queries not covered through the subscription pages."""

from __future__ import annotations

from paperwire.store.subscriptions import proven_address
from tests.factories import make_subscription
from tests.web.accountkit import fast_hashing, make_user  # noqa: F401


def test_proven_address_is_the_linked_active_subscriptions_only(db):
    alice, bob, carol = (make_user(db, n).id for n in ("alice", "bob", "carol"))
    make_subscription(db, "alice@example.org", user_id=alice)
    make_subscription(db, "bob@example.org", user_id=bob, status="pending")
    make_subscription(db, "carol@example.org")  # not linked to carol's account
    with db.session() as s:
        assert proven_address(s, alice) == "alice@example.org"
        assert proven_address(s, bob) is None
        assert proven_address(s, carol) is None
