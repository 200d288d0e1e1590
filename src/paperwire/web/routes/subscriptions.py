"""Email subscriptions on the web: subscribe (double opt-in), confirm, preferences and
one-click unsubscribe.

- ``GET/POST /subscribe``: the form (feed page and profile link here). Signed-in users whose
  subscription is linked to their account (they followed its confirmation link while signed
  in) get its preferences right away; an account's e-mail address alone proves nothing.
- ``GET/POST /subscribe/confirm/{token}``: GET shows a button, POST confirms. Link scanners
  in mail systems follow GET links; only a person's click may confirm.
- ``GET/POST /subscription/{token}``: preferences.
- ``GET/POST /unsubscribe/{token}``: GET shows a button; POST unsubscribes at once. The POST is
  also the RFC 8058 one-click target (``List-Unsubscribe-Post: List-Unsubscribe=One-Click``),
  which mail providers send without cookies, so it is exempt from CSRF: the signed token is
  its authentication.
Tokens that are tampered with or expired get a clear 400 page and no action.

The actions themselves are in ``paperwire.services.subscriptions``; confirmation mail goes
out after the response (a background task), never inside the request or its transaction.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from paperwire.digest.tokens import TokenError
from paperwire.errors import BadInput, NotFound
from paperwire.services import subscriptions as service
from paperwire.web.appcontext import app_context
from paperwire.web.pages import page_response

log = logging.getLogger(__name__)
router = APIRouter()


def install(app) -> None:
    from paperwire.web.security import csrf_exempt

    csrf_exempt(app, "/unsubscribe/")


def _settings(request: Request):
    return app_context(request).settings


def _db(request: Request):
    return app_context(request).db


def _user(request: Request):
    return getattr(request.state, "user", None)


def _message(request: Request, title: str, text: str, *, status: int = 200, link=None):
    return page_response(
        request,
        "subscriptions/message.html",
        {"page_title": title, "title": title, "text": text, "link": link},
        status_code=status,
    )


def _bad_link(request: Request, exc: Exception, purpose: str):
    expired = isinstance(exc, TokenError) and exc.reason == "expired"
    what = {"confirm": "confirmation", "unsubscribe": "unsubscribe", "preferences": "preferences"}[
        purpose
    ]
    text = (
        f"This {what} link has expired. "
        if expired
        else f"This {what} link is not valid: it may have been cut off by your mail program, "
        "altered, or replaced by a newer one. "
    )
    text += "Nothing was changed. You can subscribe again below to get a fresh link."
    return _message(
        request,
        "Link expired" if expired else "Link not valid",
        text,
        status=400,
        link=("/subscribe", "Subscribe again"),
    )


def _form_topics(form) -> list[dict]:
    topics = []
    for i in range(40):
        value = form.get(f"topic_value_{i}")
        if value is None:
            continue
        topics.append(
            {
                "kind": form.get(f"topic_kind_{i}", "query"),
                "value": value,
                "threshold": form.get(f"topic_threshold_{i}", ""),
            }
        )
    return topics


def _prefs_context(request: Request, sub, *, action: str, errors=(), saved=False, notice=None):
    from paperwire.store.subscriptions import MAX_PAPERS_RANGE

    topics = list(sub.topics or [])
    rows = topics + [{"kind": "query", "value": "", "threshold": None}] * 3
    return {
        "page_title": "Digest preferences",
        "sub": sub,
        "rows": rows,
        "action": action,
        "errors": list(errors),
        "saved": saved,
        "notice": notice,
        "unsubscribe_url": "/unsubscribe/"
        + service.token(_settings(request), "unsubscribe", sub.id, sub.token_version),
        "max_range": MAX_PAPERS_RANGE,
    }


# --- subscribe -------------------------------------------------------------------------------
@router.get("/subscribe")
def subscribe_page(request: Request, email: str = ""):
    user = _user(request)
    if user is not None:
        sub = service.for_user(_db(request), user)
        if sub is not None and sub.status in ("active", "paused"):
            return page_response(
                request,
                "subscriptions/preferences.html",
                _prefs_context(request, sub, action="/subscription"),
            )
        email = email or (user.email or "")
    return page_response(
        request,
        "subscriptions/subscribe.html",
        {"page_title": "Subscribe", "email": email, "errors": []},
    )


@router.post("/subscribe")
async def subscribe(request: Request):
    form = await request.form()
    return await run_in_threadpool(
        _subscribe, request, str(form.get("email") or ""), str(form.get("editions") or "daily")
    )


def _subscribe(request: Request, email: str, editions: str):
    from paperwire.web.security import rate_limit

    user = _user(request)
    rate_limit(request, "subscribe", user=user)
    try:
        result = service.request(
            _settings(request), _db(request), email, user=user, editions=editions
        )
    except BadInput as exc:
        return page_response(
            request,
            "subscriptions/subscribe.html",
            {"page_title": "Subscribe", "email": email, "errors": [str(exc)]},
            status_code=400,
        )
    # The same answer whether or not the address was subscribed already, or a limit held the
    # mail back: the page must not tell strangers who reads the digest.
    response = _message(
        request,
        "Check your inbox",
        f"If {result.email} is not subscribed yet, a confirmation link is on "
        "its way. Nothing will be sent until you click it.",
    )
    if result.mail is not None:
        # After the response, outside the request's transaction: a slow or failing mail
        # server never holds the page (failures are logged).
        response.background = BackgroundTask(service.deliver, _settings(request), result.mail)
    return response


# --- confirm ---------------------------------------------------------------------------------
@router.get("/subscribe/confirm/{token}")
def confirm_page(request: Request, token: str):
    try:
        service.verify(_settings(request), "confirm", token)
    except TokenError as exc:
        return _bad_link(request, exc, "confirm")
    return page_response(
        request,
        "subscriptions/confirm.html",
        {"page_title": "Confirm subscription", "token": token},
    )


@router.post("/subscribe/confirm/{token}")
def confirm(request: Request, token: str):
    try:
        done = service.confirm(_settings(request), _db(request), token, user=_user(request))
    except (TokenError, NotFound) as exc:
        return _bad_link(request, exc, "confirm")
    return RedirectResponse(f"/subscription/{done.preferences_token}?confirmed=1", status_code=303)


# --- preferences -----------------------------------------------------------------------------
@router.get("/subscription/{token}")
def preferences_page(request: Request, token: str, confirmed: str = ""):
    try:
        sub = service.load(_settings(request), _db(request), token)
    except (TokenError, NotFound) as exc:
        return _bad_link(request, exc, "preferences")
    notice = (
        "Subscription confirmed: your first digest comes with the next edition."
        if confirmed
        else None
    )
    return page_response(
        request,
        "subscriptions/preferences.html",
        _prefs_context(request, sub, action=f"/subscription/{token}", notice=notice),
    )


@router.post("/subscription/{token}")
async def save_preferences(request: Request, token: str):
    form = await request.form()
    try:
        payload = service.verify(_settings(request), "preferences", token)
    except TokenError as exc:
        return _bad_link(request, exc, "preferences")
    return await run_in_threadpool(
        _save,
        request,
        payload.subscription_id,
        payload.token_version,
        form,
        f"/subscription/{token}",
    )


@router.post("/subscription")
async def save_own_preferences(request: Request):
    from paperwire.web.auth import require_signed_in

    user = require_signed_in(request)
    form = await request.form()
    sub = await run_in_threadpool(service.for_user, _db(request), user)
    if sub is None:
        raise NotFound("you have no digest subscription yet")
    return await run_in_threadpool(_save, request, sub.id, sub.token_version, form, "/subscription")


def _save(request: Request, sid: int, version: int, form, action: str):
    try:
        sub = service.save_preferences(
            _db(request),
            sid,
            version,
            editions=str(form.get("editions") or "daily"),
            max_papers=form.get("max_papers"),
            topics=_form_topics(form),
        )
        return page_response(
            request,
            "subscriptions/preferences.html",
            _prefs_context(request, sub, action=action, saved=True),
        )
    except NotFound as exc:
        return _bad_link(request, exc, "preferences")
    except BadInput as exc:
        # Show what the person typed, with the error, rather than losing it.
        sub_view = _Draft(service.get(_db(request), sid), form)
        return page_response(
            request,
            "subscriptions/preferences.html",
            _prefs_context(request, sub_view, action=action, errors=[str(exc)]),
            status_code=400,
        )


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
        service.verify(_settings(request), "unsubscribe", token)
    except TokenError as exc:
        return _bad_link(request, exc, "unsubscribe")
    return page_response(
        request, "subscriptions/unsubscribe.html", {"page_title": "Unsubscribe", "token": token}
    )


@router.post("/unsubscribe/{token}")
def unsubscribe(request: Request, token: str):
    try:
        email = service.unsubscribe(_settings(request), _db(request), token)
    except (TokenError, NotFound) as exc:
        return _bad_link(request, exc, "unsubscribe")
    return _message(
        request,
        "Unsubscribed",
        f"{email} will get no more digests. You can subscribe again any time.",
    )
