"""store.users on SQLite and PostgreSQL: accounts, sessions, API tokens, activity."""

import datetime as dt

import pytest

from paperwire.store import users
from paperwire.store.feed import add_feed_entry
from paperwire.store.models import utcnow
from tests.factories import make_papers, make_store_user


def test_usernames_are_unique_without_regard_to_case(db):
    make_store_user(db, "Alice")
    with db.session() as s:
        with pytest.raises(users.AlreadyExists, match="username 'alice' is taken"):
            users.create_user(s, "alice", "h")
        assert users.get_user_by_username(s, "ALICE").username == "Alice"


def test_email_is_stored_lower_case_and_unique(db):
    make_store_user(db, "bob", email="Bob@Example.ORG")
    with db.session() as s:
        assert users.get_user_by_email(s, "bob@example.org").username == "bob"
        with pytest.raises(users.AlreadyExists, match="e-mail address bob@example.org"):
            users.create_user(s, "robert", "h", email="BOB@example.org")
        # The failed insert left the transaction usable.
        assert users.count_users(s) == 1


def test_session_lookup_honours_expiry_and_disabled_users(db):
    user = make_store_user(db)
    now = utcnow()
    with db.session() as s:
        users.create_session(s, user.id, "a" * 64, now + dt.timedelta(hours=1))
        users.create_session(s, user.id, "b" * 64, now - dt.timedelta(seconds=1))
    with db.session() as s:
        assert users.user_for_session(s, "a" * 64).id == user.id
        assert users.user_for_session(s, "b" * 64) is None
        assert users.user_for_session(s, "c" * 64) is None
        assert users.purge_expired_sessions(s) == 1
        users.set_disabled(s, user.id, True)
    with db.session() as s:
        assert users.user_for_session(s, "a" * 64) is None


def test_delete_user_sessions_keeps_the_current_one(db):
    user = make_store_user(db)
    later = utcnow() + dt.timedelta(days=1)
    with db.session() as s:
        for h in ("1" * 64, "2" * 64, "3" * 64):
            users.create_session(s, user.id, h, later)
        assert users.delete_user_sessions(s, user.id, keep="2" * 64) == 2
    with db.session() as s:
        assert users.user_for_session(s, "2" * 64) is not None
        assert users.user_for_session(s, "1" * 64) is None


def test_api_tokens_resolve_and_only_their_owner_revokes_them(db):
    alice, bob = make_store_user(db), make_store_user(db)
    with db.session() as s:
        token = users.create_api_token(s, alice.id, "f" * 64, "bot")
    with db.session() as s:
        assert users.user_for_token(s, "f" * 64).id == alice.id
        assert users.revoke_api_token(s, bob.id, token.id) is False
        assert users.user_for_token(s, "f" * 64) is not None
        assert users.revoke_api_token(s, alice.id, token.id) is True
        assert users.user_for_token(s, "f" * 64) is None
        assert users.list_api_tokens(s, alice.id) == []


def test_token_records_last_use(db):
    user = make_store_user(db)
    with db.session() as s:
        users.create_api_token(s, user.id, "e" * 64)
    with db.session() as s:
        users.user_for_token(s, "e" * 64)
    with db.session() as s:
        (token,) = users.list_api_tokens(s, user.id)
        assert token.last_used_at is not None


def test_submissions_and_quota_count(db):
    user = make_store_user(db)
    recs = make_papers(db, 3)
    base = dt.datetime(2026, 11, 26, 8, 0)
    with db.session() as s:
        for i, rec in enumerate(recs):
            add_feed_entry(
                s,
                rec.id,
                base.date(),
                submitted_by=user.id,
                submitted_at=base + dt.timedelta(hours=i),
            )
    with db.session() as s:
        subs = users.user_submissions(s, user.id)
        assert [p.id for p, _ in subs] == [r.id for r in reversed(recs)]
        assert users.count_submissions_since(s, user.id, base + dt.timedelta(minutes=30)) == 2
