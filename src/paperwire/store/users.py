"""Users, browser sessions and personal API tokens.

Invariants:
- Usernames are unique without regard to case (``Alice`` and ``alice`` cannot both exist);
  they are stored as typed and looked up case-insensitively. E-mail addresses are stored
  lower-cased.
- Only hashes of secrets reach the database: ``sessions.id_hash`` and ``api_tokens.token_hash``
  are SHA-256 hex digests of the random values the client holds (``paperwire.web.auth`` makes
  them), ``users.password_hash`` is an argon2id hash.
- An expired session or the token of a disabled user never yields a user.

Why this module is long: ``delete_account`` alone (one transaction over every personal
table) is ~80 lines; users, sessions and tokens are the account's SQL and stay together.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from paperwire.errors import PaperwireError
from paperwire.store.authors import delete_member_authors
from paperwire.store.db import flush_unique, rowcount
from paperwire.store.library import delete_member_library
from paperwire.store.models import (
    ApiToken,
    Comment,
    FeedEntry,
    Paper,
    Subscription,
    Upvote,
    User,
    utcnow,
)
from paperwire.store.models import (
    Session as BrowserSession,
)
from paperwire.store.recommendations import delete_member_recommendations


class AlreadyExists(PaperwireError):
    """The thing to create exists already (a taken username or e-mail address).

    Carries HTTP status 409 so the web layer answers ``{"error": "conflict", ...}``."""

    status_code = 409
    code = "conflict"


# --- users ---------------------------------------------------------------------------------


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def get_user_by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.username) == username.lower()))


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def create_user(
    session: Session,
    username: str,
    password_hash: str,
    *,
    email: str | None = None,
    is_admin: bool = False,
    display_name: str | None = None,
) -> User:
    """Add a user; raises ``AlreadyExists`` naming what is taken (username or e-mail)."""
    email = email.strip().lower() if email else None
    if get_user_by_username(session, username) is not None:
        raise AlreadyExists(f"the username {username!r} is taken")
    if email and get_user_by_email(session, email) is not None:
        raise AlreadyExists(f"an account with the e-mail address {email} exists already")
    user = User(
        username=username,
        email=email,
        password_hash=password_hash,
        is_admin=is_admin,
        display_name=display_name,
        created_at=utcnow(),
    )
    # A concurrent sign-up with the same name hits the unique index: the same Conflict, not a
    # 500, and the caller's transaction stays usable.
    if not flush_unique(session, user):
        raise AlreadyExists(f"the username {username!r} or that e-mail address is taken")
    return user


def set_password_hash(session: Session, user_id: int, password_hash: str) -> None:
    session.execute(update(User).where(User.id == user_id).values(password_hash=password_hash))


def set_admin(session: Session, user_id: int, is_admin: bool) -> None:
    session.execute(update(User).where(User.id == user_id).values(is_admin=is_admin))


def set_disabled(session: Session, user_id: int, disabled: bool) -> None:
    """Disable (or re-enable) an account; disabling also ends its sessions."""
    session.execute(update(User).where(User.id == user_id).values(disabled=disabled))
    if disabled:
        session.execute(delete(BrowserSession).where(BrowserSession.user_id == user_id))


def count_admins(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.is_admin.is_(True), User.disabled.is_(False))
        )
        or 0
    )


def delete_account(session: Session, user_id: int) -> None:
    """Delete a user and what is personal to them, in one transaction (the account
    self-service "delete my account"; see the README's Accounts section):

    - votes are removed and each paper's ``upvotes`` counter goes down with them (the votes
      module's invariant ``upvotes == imported_upvotes + count(votes)`` still holds);
    - comments are soft-deleted and emptied (``body`` and ``body_html`` blanked, author
      detached): they disappear, except where other people's replies hang below them, where
      the thread shows "[deleted]"; ``num_comments`` counts only visible comments, as before;
    - papers they put on the feed stay on it, without a submitter name; links they added to
      papers stay, without their name;
    - sessions, API tokens and the e-mail digest subscription linked to the account go;
    - the library goes: saves, lists (public ones too, with their followers), follows,
      "more like this"/"not interested" marks, followed topics (``store.library``);
    - followed authors and authorship claims (``store.authors``).

    - earlier versions of their edited comments go (``comment_revisions``), and so do their
      notifications, notification preferences and notification mails; their name leaves
      other members' notifications (``store.notifications.delete_member``).

    Explicit statements rather than relying on foreign-key actions, so SQLite connections
    without ``PRAGMA foreign_keys`` behave the same."""
    from paperwire.store import notifications
    from paperwire.store.discussion_models import CommentRevision

    session.execute(
        delete(CommentRevision).where(
            CommentRevision.comment_id.in_(select(Comment.id).where(Comment.user_id == user_id))
        )
    )
    notifications.delete_member(session, user_id)
    voted = select(Upvote.paper_id).where(Upvote.user_id == user_id)
    session.execute(
        update(Paper)
        .where(Paper.id.in_(voted))
        .values(upvotes=Paper.upvotes - 1)
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(Upvote).where(Upvote.user_id == user_id))
    visible = (Comment.user_id == user_id, Comment.deleted.is_(False))
    own_visible = (
        select(func.count())
        .select_from(Comment)
        .where(Comment.paper_id == Paper.id, *visible)
        .scalar_subquery()
    )
    session.execute(
        update(Paper)
        .where(Paper.id.in_(select(Comment.paper_id).where(*visible)))
        .values(num_comments=Paper.num_comments - own_visible)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Comment)
        .where(Comment.user_id == user_id)
        .values(deleted=True, body="", body_html="", user_id=None, edited_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(FeedEntry)
        .where(FeedEntry.submitted_by == user_id)
        .values(submitted_by=None, submitted_by_name=None)
        .execution_options(synchronize_session=False)
    )
    # Links they added to papers stay (public contributions, like feed submissions) without
    # their name.
    from paperwire.store.models import PaperLink

    session.execute(
        update(PaperLink)
        .where(PaperLink.added_by == user_id)
        .values(added_by=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(Subscription).where(Subscription.user_id == user_id))
    delete_member_library(session, user_id)
    delete_member_authors(session, user_id)
    delete_member_recommendations(session, user_id)
    session.execute(delete(BrowserSession).where(BrowserSession.user_id == user_id))
    session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
    session.execute(delete(User).where(User.id == user_id))


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


# --- browser sessions ----------------------------------------------------------------------


def create_session(
    session: Session, user_id: int, id_hash: str, expires_at: dt.datetime
) -> BrowserSession:
    row = BrowserSession(
        id_hash=id_hash, user_id=user_id, created_at=utcnow(), expires_at=expires_at
    )
    session.add(row)
    session.flush()
    return row


def user_for_session(session: Session, id_hash: str, now: dt.datetime | None = None) -> User | None:
    """The enabled user of an unexpired session, else None."""
    now = now or utcnow()
    return session.scalar(
        select(User)
        .join(BrowserSession, BrowserSession.user_id == User.id)
        .where(
            BrowserSession.id_hash == id_hash,
            BrowserSession.expires_at > now,
            User.disabled.is_(False),
        )
    )


def delete_session(session: Session, id_hash: str) -> None:
    session.execute(delete(BrowserSession).where(BrowserSession.id_hash == id_hash))


def delete_user_sessions(session: Session, user_id: int, *, keep: str | None = None) -> int:
    """End every session of a user (e.g. after a password change), except ``keep``."""
    stmt = delete(BrowserSession).where(BrowserSession.user_id == user_id)
    if keep:
        stmt = stmt.where(BrowserSession.id_hash != keep)
    return rowcount(session.execute(stmt)) or 0


def purge_expired_sessions(session: Session, now: dt.datetime | None = None) -> int:
    """Delete expired sessions (the worker's clean-up job calls this); returns how many."""
    now = now or utcnow()
    return (
        rowcount(session.execute(delete(BrowserSession).where(BrowserSession.expires_at <= now)))
        or 0
    )


# --- API tokens ----------------------------------------------------------------------------


def create_api_token(session: Session, user_id: int, token_hash: str, name: str = "") -> ApiToken:
    token = ApiToken(user_id=user_id, token_hash=token_hash, name=name, created_at=utcnow())
    session.add(token)
    session.flush()
    return token


def list_api_tokens(session: Session, user_id: int) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user_id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_api_token(session: Session, user_id: int, token_id: int) -> bool:
    """Delete one of the user's own tokens; another user's token id revokes nothing."""
    result = session.execute(
        delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
    )
    return (rowcount(result) or 0) == 1


def user_for_token(
    session: Session, token_hash: str, now: dt.datetime | None = None
) -> User | None:
    """The enabled user owning a token; records when the token was last used."""
    row = session.execute(
        select(User, ApiToken)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == token_hash)
    ).first()
    if row is None:
        return None
    user, token = row
    if user.disabled:
        return None
    now = now or utcnow()
    # Written at most once a minute per token so that API bursts do not turn every read into
    # a write.
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
    return user


# --- activity shown on profiles ------------------------------------------------------------


@dataclass
class Activity:
    paper: Paper
    at: dt.datetime


def user_submissions(
    session: Session, user_id: int, limit: int = 50
) -> list[tuple[Paper, FeedEntry]]:
    """Papers the user put on the feed, newest first."""
    rows = session.execute(
        select(Paper, FeedEntry)
        .join(FeedEntry, FeedEntry.paper_id == Paper.id)
        .where(FeedEntry.submitted_by == user_id)
        .order_by(FeedEntry.submitted_at.desc(), FeedEntry.id.desc())
        .limit(limit)
    )
    return [(paper, entry) for paper, entry in rows]


def user_upvotes(session: Session, user_id: int, limit: int = 50) -> list[Activity]:
    """Papers the user upvoted, most recent vote first."""
    rows = session.execute(
        select(Paper, Upvote.created_at)
        .join(Upvote, Upvote.paper_id == Paper.id)
        .where(Upvote.user_id == user_id)
        .order_by(Upvote.created_at.desc(), Paper.id)
        .limit(limit)
    )
    return [Activity(paper, at) for paper, at in rows]


def user_comments(session: Session, user_id: int, limit: int = 50) -> list[tuple[Comment, Paper]]:
    """The user's visible comments with their papers, newest first."""
    rows = session.execute(
        select(Comment, Paper)
        .join(Paper, Paper.id == Comment.paper_id)
        .where(Comment.user_id == user_id, Comment.deleted.is_(False))
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(limit)
    )
    return [(comment, paper) for comment, paper in rows]


def count_submissions_since(session: Session, user_id: int, since: dt.datetime) -> int:
    """Feed entries the user submitted at or after ``since`` (naive UTC): the daily quota."""
    return (
        session.scalar(
            select(func.count())
            .select_from(FeedEntry)
            .where(FeedEntry.submitted_by == user_id, FeedEntry.submitted_at >= since)
        )
        or 0
    )


def existing_usernames(session: Session, names: set[str] | list[str]) -> set[str]:
    """Of ``names`` (any case), the usernames of active accounts, as stored (for @mentions)."""
    wanted = {n.lower() for n in names if n}
    if not wanted:
        return set()
    rows = session.scalars(
        select(User.username).where(func.lower(User.username).in_(wanted), User.disabled.is_(False))
    )
    return set(rows)


def user_ids_of(session: Session, usernames: set[str] | list[str]) -> set[int]:
    """The ids of the accounts with these exact usernames."""
    if not usernames:
        return set()
    return set(session.scalars(select(User.id).where(User.username.in_(list(usernames)))))


@dataclass(frozen=True)
class AccountRows:
    """A member's own rows for the account export (oldest first)."""

    votes: list[tuple[str, dt.datetime]]  # (paper id, created_at)
    comments: list[Comment]  # deleted ones left out
    submissions: list[FeedEntry]  # the feed entries they submitted
    subscriptions: list[Subscription]  # linked to the account
    tokens: list[ApiToken]


def account_rows(session: Session, user_id: int) -> AccountRows:
    return AccountRows(
        votes=list(
            session.execute(
                select(Upvote.paper_id, Upvote.created_at)
                .where(Upvote.user_id == user_id)
                .order_by(Upvote.created_at)
            ).all()
        ),
        comments=list(
            session.scalars(
                select(Comment)
                .where(Comment.user_id == user_id, Comment.deleted.is_(False))
                .order_by(Comment.created_at, Comment.id)
            )
        ),
        submissions=list(
            session.scalars(
                select(FeedEntry)
                .where(FeedEntry.submitted_by == user_id)
                .order_by(FeedEntry.submitted_at)
            )
        ),
        subscriptions=list(
            session.scalars(select(Subscription).where(Subscription.user_id == user_id))
        ),
        tokens=list(
            session.scalars(
                select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at)
            )
        ),
    )
