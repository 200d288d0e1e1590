"""Request-level safety: who is signed in, CSRF tokens, security headers and rate limits.

``SecurityMiddleware`` (a plain ASGI middleware, installed by ``routes.accounts.install``)
does, for every HTTP request:

1. **User**: loads the user of the ``pw_session`` cookie into ``request.state.user`` (None when
   absent, expired or disabled; a stale cookie is cleared on the response).
2. **CSRF** (signed double-submit cookie bound to the session): a random ``pw_csrf`` cookie
   (HttpOnly, SameSite=Lax) plus a token ``HMAC(secret_key, cookie | session)`` that pages put
   in every form through ``csrf_field()`` (``request.state.csrf_token``) and scripts send as
   the ``X-CSRF-Token`` header. Every POST/PUT/PATCH/DELETE outside ``/api/`` must carry a
   token matching its cookie and session, else 403 and the handler never runs. A token made
   before signing in or out is refused after it (the session changed). The JSON API under
   ``/api/`` is exempt because it authenticates only by ``Authorization: Bearer`` tokens,
   which a browser never sends by itself; ``csrf_exempt(app, prefix)`` exempts other paths
   that carry their own proof (RFC 8058 one-click unsubscribe links).
3. **Headers** on every response: a Content-Security-Policy without inline script
   (``script-src 'self'``) and ``frame-ancestors 'none'``, ``X-Content-Type-Options: nosniff``,
   ``Referrer-Policy``, ``X-Frame-Options: DENY``, ``Permissions-Policy``, HSTS when cookies
   are Secure; pages for a signed-in user are ``Cache-Control: private, no-store``.

``rate_limit(request, action, ...)`` is called by write handlers (sign-in, sign-up, submit,
vote, comment): ``settings.rate_limit_per_minute`` attempts per client and action per minute,
shared by all workers via the ``rate_events`` table; over the limit it raises
``RateLimited`` (429 with ``Retry-After``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from http.cookies import SimpleCookie

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import Request

from paperwire.config import Settings
from paperwire.store import ratelimit
from paperwire.web import auth
from paperwire.web.appcontext import app_context
from paperwire.web.errors import RateLimited
from paperwire.web.inputs import read_body, replay_body

CSRF_COOKIE = "pw_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
MAX_FORM_BYTES = 1024 * 1024  # a comment or a form is far smaller; bounds buffering

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
STATIC_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def csrf_exempt(app, prefix: str) -> None:
    """Exempt paths starting with ``prefix`` from the CSRF check (they must carry their own
    proof, e.g. a signed token in the URL)."""
    app_context(app).csrf_exempt.append(prefix)


def csrf_token_for(secret: str, cookie_value: str, session_id: str | None) -> str:
    """The token forms must echo: bound to the browser's CSRF cookie and to its session."""
    bound = auth.digest(session_id) if session_id else "-"
    mac = hmac.new(secret.encode(), f"csrf|{cookie_value}|{bound}".encode(), hashlib.sha256)
    return mac.hexdigest()


def _cookies(scope) -> dict[str, str]:
    jar: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            parsed = SimpleCookie()
            try:
                parsed.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001 - a malformed cookie header is just ignored
                continue
            for key, morsel in parsed.items():
                jar.setdefault(key, morsel.value)
    return jar


def _cookie_header(name: str, value: str, *, max_age: int, secure: bool) -> bytes:
    parts = [f"{name}={value}", "Path=/", f"Max-Age={max_age}", "HttpOnly", "SameSite=Lax"]
    if secure:
        parts.append("Secure")
    return "; ".join(parts).encode("latin-1")


class SecurityMiddleware:
    def __init__(self, app, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.secret = settings.effective_secret_key()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        state = scope.setdefault("state", {})
        cookies = _cookies(scope)
        sid = cookies.get(auth.SESSION_COOKIE)
        user = None
        if sid:
            db = app_context(scope["app"]).db
            user = await run_in_threadpool(auth.user_from_session, db, sid)
        state["user"] = user
        state["session_id"] = sid if user is not None else None
        clear_session = bool(sid) and user is None

        csrf_cookie = cookies.get(CSRF_COOKIE, "")
        new_csrf_cookie = None
        if not (16 <= len(csrf_cookie) <= 128):
            csrf_cookie = new_csrf_cookie = secrets.token_urlsafe(32)
        state["csrf_cookie"] = csrf_cookie
        state["csrf_token"] = csrf_token_for(self.secret, csrf_cookie, state["session_id"])

        path = scope.get("path", "")
        if scope["method"] in UNSAFE_METHODS and not self._exempt(scope, path):
            body = await read_body(receive, MAX_FORM_BYTES)
            if body is None:
                return await self._reject(scope, send, 413, "the form is larger than 1 MB")
            sent = await _submitted_token(scope, body)
            expected = state["csrf_token"]
            if new_csrf_cookie is not None or not sent or not hmac.compare_digest(sent, expected):
                return await self._reject(
                    scope,
                    send,
                    403,
                    "this form has expired or did not come from this site (missing or wrong "
                    "CSRF token); go back, reload the page and try again",
                )
            receive = replay_body(body, receive)

        signed_in = user is not None
        secure = self.settings.secure_cookies

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in STATIC_HEADERS:
                    if name.decode() not in headers:
                        headers.append(name.decode(), value.decode())
                if secure:
                    headers.setdefault("strict-transport-security", "max-age=31536000")
                content_type = headers.get("content-type", "")
                if content_type.startswith("text/html"):
                    # Pages embed a CSRF token bound to this browser's cookies: a shared cache
                    # must never hand one browser's page to another.
                    vary = headers.get("vary", "")
                    if "cookie" not in vary.lower():
                        headers["vary"] = f"{vary}, Cookie" if vary else "Cookie"
                if signed_in and content_type.startswith("text/html"):
                    headers["cache-control"] = "private, no-store"
                if new_csrf_cookie is not None and content_type.startswith("text/html"):
                    headers.append(
                        "set-cookie",
                        _cookie_header(
                            CSRF_COOKIE, new_csrf_cookie, max_age=365 * 86400, secure=secure
                        ).decode("latin-1"),
                    )
                if clear_session and not any(
                    v.startswith(auth.SESSION_COOKIE + "=")
                    for k, v in headers.items()
                    if k == "set-cookie"
                ):
                    headers.append(
                        "set-cookie",
                        _cookie_header(auth.SESSION_COOKIE, '""', max_age=0, secure=secure).decode(
                            "latin-1"
                        ),
                    )
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _exempt(self, scope, path: str) -> bool:
        if path.startswith("/api/"):
            return True
        prefixes = app_context(scope["app"]).csrf_exempt
        return any(path.startswith(p) for p in prefixes)

    async def _reject(self, scope, send, status: int, detail: str):
        from paperwire.web.errors import error_response

        async def no_body():
            return {"type": "http.request", "body": b"", "more_body": False}

        request = Request(scope, no_body)
        response = error_response(
            request, status, detail, code="csrf_failed" if status == 403 else None
        )
        for name, value in STATIC_HEADERS:
            response.headers.setdefault(name.decode(), value.decode())
        await response(scope, no_body, send)


async def _submitted_token(scope, body: bytes) -> str:
    for name, value in scope.get("headers", []):
        if name == CSRF_HEADER.encode():
            return value.decode("latin-1").strip()
    content_type = ""
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            content_type = value.decode("latin-1").lower()
    if not (
        content_type.startswith("application/x-www-form-urlencoded")
        or content_type.startswith("multipart/form-data")
    ):
        return ""
    request = Request(scope, replay_body(body, _never))
    try:
        form = await request.form()
    except Exception:  # noqa: BLE001 - an unparsable form carries no valid token
        return ""
    value = form.get(CSRF_FIELD)
    return value.strip() if isinstance(value, str) else ""


async def _never():  # pragma: no cover - only reached if a parser reads past the body
    return {"type": "http.disconnect"}


# --- rate limits ---------------------------------------------------------------------------


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def rate_limit(
    request: Request, action: str, *, user=None, extra_keys: tuple[str, ...] = ()
) -> None:
    """Count one ``action`` attempt for this client; raise ``RateLimited`` over the limit.

    The client is the signed-in (or token) user when there is one, else the IP address;
    ``extra_keys`` adds limits on other keys (sign-in also limits per attempted username, so
    guessing one account's password from many addresses is slowed too). Call from sync
    handlers (they run in the thread pool)."""
    settings = app_context(request).settings
    limit = settings.rate_limit_per_minute
    who = f"u:{user.id}" if user is not None else f"ip:{client_ip(request)}"
    keys = [f"{action}:{who}", *(f"{action}:{k}" for k in extra_keys)]
    db = app_context(request).db
    for key in keys:
        decision = ratelimit.hit(db, key[:200], limit, 60.0)
        if not decision.allowed:
            raise RateLimited(
                f"too many {action} attempts; try again in {decision.retry_after} s",
                retry_after=decision.retry_after,
            )
