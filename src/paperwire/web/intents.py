"""An upvote asked for before signing in, applied after.

An anonymous visitor who presses upvote is told that voting needs an account; the vote they
meant is kept in a signed, short-lived, HttpOnly cookie (``pw_vote_intent``) and applied by
the sign-in or sign-up that follows, in the same browser.

Why this is CSRF-safe:
- the cookie is set only by the answer to the upvote POST, which passed the CSRF check (a
  form of this site, in this browser), and another site cannot set a cookie for this one;
- it is signed with the site key (``itsdangerous``, its own salt) and expires after
  ``MAX_AGE_SECONDS``: a forged or stale cookie is ignored;
- it is applied only by a successful sign-in/sign-up POST (itself CSRF-checked) and removed
  by it, so it is used at most once; a link or a GET never votes.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeTimedSerializer

from paperwire.config import Settings
from paperwire.web.appcontext import app_context, invalidate_pages

COOKIE = "pw_vote_intent"
MAX_AGE_SECONDS = 30 * 60


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.effective_secret_key(), salt="paperwire.vote-intent")


def remember_vote(response, settings: Settings, paper_id: str) -> None:
    response.set_cookie(
        COOKIE,
        _serializer(settings).dumps({"upvote": paper_id}),
        max_age=MAX_AGE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


def pending_vote(request) -> str | None:
    """The paper id of the upvote this browser asked for before signing in, if any."""
    raw = request.cookies.get(COOKIE)
    if not raw or len(raw) > 1000:
        return None
    try:
        data = _serializer(app_context(request).settings).loads(raw, max_age=MAX_AGE_SECONDS)
    except (BadSignature, ValueError, TypeError):
        return None
    pid = data.get("upvote") if isinstance(data, dict) else None
    return pid if isinstance(pid, str) and 0 < len(pid) <= 64 else None


def apply_pending_vote(request, response, user_id: int) -> bool:
    """After a successful sign-in or sign-up: count the remembered upvote (idempotent: an
    existing vote stays) and forget it. True when a vote was applied."""
    pid = pending_vote(request)
    if COOKIE in request.cookies:
        response.delete_cookie(COOKIE, path="/")
    if pid is None:
        return False
    from paperwire.errors import NotFound
    from paperwire.store import votes

    try:
        with app_context(request).db.session() as session:
            result = votes.add_vote(session, user_id, pid)
    except NotFound:
        return False  # the paper went away (hidden) meanwhile: nothing to count
    if result.changed:
        invalidate_pages(request)
    return True


def paper_title(request, paper_id: str | None) -> str | None:
    if not paper_id:
        return None
    from paperwire.store.models import Paper

    with app_context(request).db.session() as session:
        paper = session.get(Paper, paper_id)
        return paper.title if paper is not None and not paper.hidden else None
