"""Email subscriptions on the web: subscribe (double opt-in), confirm, preferences and
one-click unsubscribe.

- ``GET/POST /subscribe``: the form (feed page and profile link here). Signed-in users whose
  subscription exists get its preferences right away (their session authenticates them).
- ``GET/POST /subscribe/confirm/{token}``: GET shows a button, POST confirms. Link scanners
  in mail systems follow GET links; only a person's click may confirm.
- ``GET/POST /subscription/{token}``: preferences.
- ``GET/POST /unsubscribe/{token}``: GET shows a button; POST unsubscribes at once. The POST is
  also the RFC 8058 one-click target (``List-Unsubscribe-Post: List-Unsubscribe=One-Click``),
  which mail providers send without cookies, so it is exempt from CSRF: the signed token is
  its authentication.
Tokens that are tampered with or expired get a clear 400 page and no action.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from paperwire.digest.tokens import TokenError, max_age_seconds, make_token, verify_token
from paperwire.errors import BadInput, NotFound
from paperwire.web.pages import page_response

log = logging.getLogger(__name__)
router = APIRouter()


def install(app) -> None:
    from paperwire.web.security import csrf_exempt

    csrf_exempt(app, "/unsubscribe/")


def _settings(request: Request):
    return request.app.state.settings


def _db(request: Request):
    return request.app.state.db


def _user(request: Request):
    return getattr(request.state, "user", None)


def _message(request: Request, title: str, text: str, *, status: int = 200, link=None):
    return page_response(request, "subscriptions/message.html",
                         {"page_title": title, "title": title, "text": text, "link": link},
                         status_code=status)


def _bad_link(request: Request, exc: Exception, purpose: str):
    expired = isinstance(exc, TokenError) and exc.reason == "expired"
    what = {"confirm": "confirmation", "unsubscribe": "unsubscribe",
            "preferences": "preferences"}[purpose]
    text = (f"This {what} link has expired. " if expired else
            f"This {what} link is not valid: it may have been cut off by your mail program, "
            "altered, or replaced by a newer one. ")
    text += "Nothing was changed. You can subscribe again below to get a fresh link."
    return _message(request, "Link expired" if expired else "Link not valid", text,
                    status=400, link=("/subscribe", "Subscribe again"))


def _verify(request: Request, purpose: str, token: str):
    s = _settings(request)
    return verify_token(s.effective_secret_key(), purpose, token,
                        max_age=max_age_seconds(purpose, s.token_max_age_days))


def _prefs_token(request: Request, sub) -> str:
    return make_token(_settings(request).effective_secret_key(), "preferences", sub.id,
                      sub.token_version)


def _form_topics(form) -> list[dict]:
    topics = []
    for i in range(40):
        value = form.get(f"topic_value_{i}")
        if value is None:
            continue
        topics.append({"kind": form.get(f"topic_kind_{i}", "query"), "value": value,
                       "threshold": form.get(f"topic_threshold_{i}", "")})
    return topics


def _prefs_context(request: Request, sub, *, action: str, errors=(), saved=False, notice=None):
    from paperwire.store.subscriptions import MAX_PAPERS_RANGE

    topics = list(sub.topics or [])
    rows = topics + [{"kind": "query", "value": "", "threshold": None}] * 3
    return {"page_title": "Digest preferences", "sub": sub, "rows": rows, "action": action,
            "errors": list(errors), "saved": saved, "notice": notice,
            "unsubscribe_url": "/unsubscribe/" + make_token(
                _settings(request).effective_secret_key(), "unsubscribe", sub.id,
                sub.token_version),
            "max_range": MAX_PAPERS_RANGE}


# --- subscribe -------------------------------------------------------------------------------
@router.get("/subscribe")
def subscribe_page(request: Request, email: str = ""):
    user = _user(request)
    if user is not None:
        sub = _user_subscription(request, user)
        if sub is not None and sub.status in ("active", "paused"):
            return page_response(request, "subscriptions/preferences.html",
                                 _prefs_context(request, sub, action="/subscription"))
        email = email or (user.email or "")
    return page_response(request, "subscriptions/subscribe.html",
                         {"page_title": "Subscribe", "email": email, "errors": []})


def _user_subscription(request: Request, user):
    from paperwire.store import subscriptions

    with _db(request).session() as s:
        sub = subscriptions.get_by_user(s, user.id)
        if sub is None and user.email:
            sub = subscriptions.get_by_email(s, user.email)
        return sub


@router.post("/subscribe")
async def subscribe(request: Request):
    from starlette.concurrency import run_in_threadpool

    form = await request.form()
    return await run_in_threadpool(_subscribe, request, str(form.get("email") or ""),
                                   str(form.get("editions") or "daily"))


def _subscribe(request: Request, email: str, editions: str):
    from paperwire.digest.mailer import send_confirmation
    from paperwire.digest.transport import PermanentFailure, TemporaryFailure, TransportError
    from paperwire.store import subscriptions
    from paperwire.web.security import rate_limit

    user = _user(request)
    rate_limit(request, "subscribe", user=user)
    if editions not in subscriptions.EDITIONS:
        editions = "daily"
    try:
        with _db(request).session() as s:
            sub, needs = subscriptions.subscribe(
                s, email, user_id=user.id if user is not None and user.email
                and user.email.lower() == email.strip().lower() else None, editions=editions)
            sid, version, addr = sub.id, sub.token_version, sub.email
    except BadInput as exc:
        return page_response(request, "subscriptions/subscribe.html",
                             {"page_title": "Subscribe", "email": email, "errors": [str(exc)]},
                             status_code=400)
    if needs:
        try:
            send_confirmation(_settings(request), email=addr, subscription_id=sid,
                              token_version=version)
        except (TemporaryFailure, PermanentFailure, TransportError) as exc:
            log.warning("confirmation mail to subscription %s failed: %s", sid, exc)
            return _message(request, "Could not send the confirmation",
                            "We could not send the confirmation email just now. Nothing was "
                            "sent; please try again in a few minutes.", status=503)
    # The same answer whether or not the address was already subscribed: the page must not
    # tell strangers who reads the digest.
    return _message(request, "Check your inbox",
                    f"If {addr} is not subscribed yet, a confirmation link is on its way. "
                    "Nothing will be sent until you click it.")


# --- confirm ---------------------------------------------------------------------------------
@router.get("/subscribe/confirm/{token}")
def confirm_page(request: Request, token: str):
    try:
        _verify(request, "confirm", token)
    except TokenError as exc:
        return _bad_link(request, exc, "confirm")
    return page_response(request, "subscriptions/confirm.html",
                         {"page_title": "Confirm subscription", "token": token})


@router.post("/subscribe/confirm/{token}")
def confirm(request: Request, token: str):
    from paperwire.store import subscriptions

    try:
        payload = _verify(request, "confirm", token)
        with _db(request).session() as s:
            sub = subscriptions.confirm(s, payload.subscription_id, payload.token_version)
            prefs = _prefs_token(request, sub)
    except (TokenError, NotFound) as exc:
        return _bad_link(request, exc, "confirm")
    return RedirectResponse(f"/subscription/{prefs}?confirmed=1", status_code=303)


# --- preferences -----------------------------------------------------------------------------
@router.get("/subscription/{token}")
def preferences_page(request: Request, token: str, confirmed: str = ""):
    from paperwire.store import subscriptions

    try:
        payload = _verify(request, "preferences", token)
        with _db(request).session() as s:
            sub = subscriptions.get(s, payload.subscription_id)
            if sub.token_version != payload.token_version:
                raise NotFound("old link")
    except (TokenError, NotFound) as exc:
        return _bad_link(request, exc, "preferences")
    notice = "Subscription confirmed: your first digest comes with the next edition." \
        if confirmed else None
    return page_response(request, "subscriptions/preferences.html",
                         _prefs_context(request, sub, action=f"/subscription/{token}",
                                        notice=notice))


@router.post("/subscription/{token}")
async def save_preferences(request: Request, token: str):
    from starlette.concurrency import run_in_threadpool

    form = await request.form()
    try:
        payload = _verify(request, "preferences", token)
    except TokenError as exc:
        return _bad_link(request, exc, "preferences")
    return await run_in_threadpool(_save, request, payload.subscription_id,
                                   payload.token_version, form, f"/subscription/{token}")


@router.post("/subscription")
async def save_own_preferences(request: Request):
    from starlette.concurrency import run_in_threadpool

    from paperwire.web.auth import require_signed_in

    user = require_signed_in(request)
    form = await request.form()
    sub = await run_in_threadpool(_user_subscription, request, user)
    if sub is None:
        raise NotFound("you have no digest subscription yet")
    return await run_in_threadpool(_save, request, sub.id, sub.token_version, form,
                                   "/subscription")


def _save(request: Request, sid: int, version: int, form, action: str):
    from paperwire.digest.topics import validate_topics
    from paperwire.store import subscriptions

    try:
        topics = validate_topics(_form_topics(form))
        try:
            max_papers = int(form.get("max_papers") or 10)
        except ValueError:
            raise BadInput("number of papers must be a whole number") from None
        with _db(request).session() as s:
            sub = subscriptions.update_preferences(
                s, sid, version, editions=str(form.get("editions") or "daily"),
                max_papers=max_papers, topics=topics)
        return page_response(request, "subscriptions/preferences.html",
                             _prefs_context(request, sub, action=action, saved=True))
    except NotFound as exc:
        return _bad_link(request, exc, "preferences")
    except BadInput as exc:
        with _db(request).session() as s:
            sub = subscriptions.get(s, sid)
        # Show what the person typed, with the error, rather than losing it.
        sub_view = _Draft(sub, form)
        return page_response(request, "subscriptions/preferences.html",
                             _prefs_context(request, sub_view, action=action,
                                            errors=[str(exc)]), status_code=400)


class _Draft:
    """A subscription as the (invalid) form had it, for re-display."""

    def __init__(self, sub, form) -> None:
        self.id, self.token_version, self.email = sub.id, sub.token_version, sub.email
        self.status = sub.status
        self.editions = str(form.get("editions") or sub.editions)
        self.max_papers = form.get("max_papers") or sub.max_papers
        self.topics = [t for t in _form_topics(form) if (t.get("value") or "").strip()]


# --- unsubscribe -----------------------------------------------------------------------------
@router.get("/unsubscribe/{token}")
def unsubscribe_page(request: Request, token: str):
    try:
        _verify(request, "unsubscribe", token)
    except TokenError as exc:
        return _bad_link(request, exc, "unsubscribe")
    return page_response(request, "subscriptions/unsubscribe.html",
                         {"page_title": "Unsubscribe", "token": token})


@router.post("/unsubscribe/{token}")
def unsubscribe(request: Request, token: str):
    from paperwire.store import subscriptions

    try:
        payload = _verify(request, "unsubscribe", token)
        with _db(request).session() as s:
            sub = subscriptions.unsubscribe(s, payload.subscription_id, payload.token_version)
            email = sub.email
    except (TokenError, NotFound) as exc:
        return _bad_link(request, exc, "unsubscribe")
    return _message(request, "Unsubscribed",
                    f"{email} will get no more digests. You can subscribe again any time.")
