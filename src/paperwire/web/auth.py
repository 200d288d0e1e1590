"""Who is asking: password hashing, browser sessions and personal API tokens.

Invariants:
- Passwords are hashed with argon2id (argon2-cffi's ``PasswordHasher``, RFC 9106 parameters);
  a stored hash made with weaker parameters is upgraded on the next successful sign-in.
- Signing in with an unknown username costs the same hashing time as with a known one, so
  response times do not reveal which usernames exist.
- A browser session is a random 256-bit id in an HttpOnly, SameSite=Lax cookie (``Secure``
  when ``settings.secure_cookies``); the database keeps only its SHA-256. Signing in always
  makes a new id (no session fixation); signing out deletes the row.
- An API token is ``pw_`` + 256 random bits, shown once; only its SHA-256 is stored.
- ``request.state.user`` is the signed-in ``User`` (detached, read-only) or None; it is set by
  ``paperwire.web.security.SecurityMiddleware`` for every request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from paperwire.config import Settings
from paperwire.errors import BadInput
from paperwire.store import users as user_store
from paperwire.store.models import User, utcnow
from paperwire.web.appcontext import app_context
from paperwire.web.errors import Forbidden, Unauthorized

if TYPE_CHECKING:
    from paperwire.store.db import Database

SESSION_COOKIE = "pw_session"
SESSION_DAYS = 30
TOKEN_PREFIX = "pw_"

USERNAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{1,31}")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # argon2 takes any length; the cap only bounds the work per request
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
RESERVED_USERNAMES = {
    "admin",
    "administrator",
    "root",
    "system",
    "paperwire",
    "api",
    "anonymous",
    "deleted",
    "me",
    "profile",
    "signin",
    "signup",
    "signout",
}

# argon2id with argon2-cffi's defaults, the RFC 9106 low-memory profile (t=3, m=64 MiB, p=4).
# Tests swap in cheaper parameters with ``use_hasher`` (still argon2id).
_hasher = PasswordHasher()
_dummy_hash: str | None = None


def use_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Replace the password hasher (tests); returns the previous one."""
    global _hasher, _dummy_hash
    previous, _hasher, _dummy_hash = _hasher, hasher, None
    return previous


def _dummy() -> str:
    # Made on first use, with the current parameters, so a miss costs what a hit costs.
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("paperwire-timing-equalizer")
    return _dummy_hash


# --- passwords -----------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def check_new_credentials(
    username: str, password: str, email: str | None = None, *, allow_reserved: bool = False
) -> list[str]:
    """Reasons a sign-up cannot go ahead; empty when it can. Reserved names (``admin``...)
    are refused to sign-ups, so nobody poses as the site; the operator's CLI may use them."""
    problems = []
    if not USERNAME_RE.fullmatch(username or ""):
        problems.append(
            "A username has 2 to 32 characters: letters, digits, and . _ - "
            "(starting with a letter or digit)."
        )
    elif username.lower() in RESERVED_USERNAMES and not allow_reserved:
        problems.append(f"The username {username!r} is reserved; please pick another.")
    problems += check_password(password, username)
    if email and not _EMAIL_RE.fullmatch(email.strip()):
        problems.append(f"{email!r} does not look like an e-mail address.")
    return problems


def check_password(password: str, username: str = "") -> list[str]:
    if len(password or "") < MIN_PASSWORD:
        return [f"A password needs at least {MIN_PASSWORD} characters."]
    if len(password) > MAX_PASSWORD:
        return [f"A password may have at most {MAX_PASSWORD} characters."]
    if username and password.lower() == username.lower():
        return ["The password must not be the username."]
    return []


def authenticate(session, username: str, password: str) -> User | None:
    """The enabled user with these credentials, else None (same cost either way)."""
    user = user_store.get_user_by_username(session, username or "")
    if user is None:
        verify_password(_dummy(), password or "")
        return None
    if not verify_password(user.password_hash, password or "") or user.disabled:
        return None
    if needs_rehash(user.password_hash):
        user_store.set_password_hash(session, user.id, hash_password(password))
    return user


def create_user(
    db: Database,
    username: str,
    password: str,
    *,
    email: str | None = None,
    is_admin: bool = False,
    allow_reserved: bool = False,
) -> User:
    """Validate and create an account (CLI and sign-up share this)."""
    problems = check_new_credentials(username, password, email, allow_reserved=allow_reserved)
    if problems:
        raise BadInput(" ".join(problems))
    password_hash = hash_password(password)
    with db.session() as session:
        return user_store.create_user(
            session, username, password_hash, email=email or None, is_admin=is_admin
        )


# --- secrets held by clients ---------------------------------------------------------------


def digest(secret: str) -> str:
    """SHA-256 hex of a session id or API token: what the database stores."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_session(db: Database, user_id: int, *, days: int = SESSION_DAYS) -> str:
    """Start a session for the user; returns the cookie value (never stored as such)."""
    sid = secrets.token_urlsafe(32)
    with db.session() as session:
        user_store.create_session(session, user_id, digest(sid), utcnow() + dt.timedelta(days=days))
    return sid


def end_session(db: Database, sid: str | None) -> None:
    if sid:
        with db.session() as session:
            user_store.delete_session(session, digest(sid))


def user_from_session(db: Database, sid: str | None) -> User | None:
    if not sid or len(sid) > 128:
        return None
    with db.session() as session:
        return user_store.user_for_session(session, digest(sid))


def set_session_cookie(response, settings: Settings, sid: str, *, days: int = SESSION_DAYS) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        sid,
        max_age=days * 86400,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


def clear_session_cookie(response, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=settings.secure_cookies, path="/"
    )


@dataclass(frozen=True)
class NewToken:
    id: int
    name: str
    token: str  # the only time the clear value exists


def new_api_token(db: Database, user_id: int, name: str = "") -> NewToken:
    name = (name or "").strip()[:128] or "API token"
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.session() as session:
        row = user_store.create_api_token(session, user_id, digest(token), name)
        return NewToken(row.id, row.name, token)


def user_from_bearer(db: Database, authorization: str | None) -> User | None:
    """The user of an ``Authorization: Bearer pw_...`` header, None without one.

    A header that is present but wrong raises ``Unauthorized`` (a client with a revoked token
    must learn it, not be treated as anonymous)."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise Unauthorized(
            "the Authorization header must be `Bearer <token>`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    with db.session() as session:
        user = user_store.user_for_token(session, digest(value)) if len(value) <= 256 else None
    if user is None:
        raise Unauthorized(
            "the API token is unknown or revoked",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return user


# --- request helpers -----------------------------------------------------------------------


def current_user(request: Request) -> User | None:
    return getattr(request.state, "user", None)


# Declares the scheme in the OpenAPI document (/api/docs gets an "Authorize" button); the
# header itself is checked by ``user_from_bearer``.
_bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="PersonalApiToken",
    description="A personal API token (profile page or `paperwire user token`).",
)


def require_signed_in(request: Request) -> User:
    """The signed-in user of a page request, or ``Unauthorized`` (the error page links to
    sign-in). Handlers that should rather redirect check ``current_user`` themselves."""
    user = current_user(request)
    if user is None:
        raise Unauthorized("please sign in first")
    return user


def require_api_user(request: Request, _credentials=Depends(_bearer_scheme)) -> User:
    """FastAPI dependency for API writes: a personal API token is required."""
    user = user_from_bearer(app_context(request).db, request.headers.get("authorization"))
    if user is None:
        raise Unauthorized(
            "this endpoint needs a personal API token: "
            "`Authorization: Bearer <token>` (create one on your profile page "
            "or with `paperwire user token`)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    request.state.user = user
    return user


def require_admin(user: User) -> User:
    if not user.is_admin:
        raise Forbidden("only administrators can moderate")
    return user
