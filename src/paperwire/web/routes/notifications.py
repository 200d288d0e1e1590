"""Notifications: ``/notifications`` (the list, unread first marked, "mark all read"), the
notification-mail preference (``POST /profile/notifications``), the address confirmation and
one-click unsubscribe links mailed by ``digest/notify.py``, and the JSON API
(``GET /api/notifications``, ``POST /api/notifications/read``). Thin handlers over
``services/notifications.py``.

``POST /notifications/unsubscribe/{token}`` is exempt from CSRF: the signed token is its
proof (RFC 8058 one-click from a mail client that has no session).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Body, Depends, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from paperwire.config import Settings
from paperwire.digest.tokens import TokenError
from paperwire.services import notifications as service
from paperwire.web import auth
from paperwire.web.appcontext import app_context
from paperwire.web.errors import error_responses
from paperwire.web.inputs import IdField
from paperwire.web.pages import page_response
from paperwire.web.schemas import MarkedReadOut, NotificationsOut

log = logging.getLogger(__name__)
router = APIRouter()
html = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["notifications"])


def install(app) -> None:
    from paperwire.web.security import csrf_exempt

    csrf_exempt(app, "/notifications/unsubscribe/")


def _iso(value) -> str:
    return value.isoformat(timespec="seconds") + "Z"


def notification_json(v) -> dict:
    return {
        "id": v.id,
        "kind": v.kind,
        "reason": v.reason,
        "paperId": v.paper_id,
        "paperTitle": v.paper_title,
        "commentId": v.comment_id,
        "actor": v.actor,
        "excerpt": v.excerpt,
        "createdAt": _iso(v.created_at),
        "read": v.read,
    }


def _message(request: Request, title: str, text: str, *, status: int = 200, link=None):
    return page_response(
        request,
        "subscriptions/message.html",
        {"page_title": title, "title": title, "text": text, "link": link},
        status_code=status,
    )


def _deliver_later(settings: Settings, mail) -> None:
    try:
        service.deliver(settings, mail)
    except Exception:  # noqa: BLE001 - the page has answered; the log says why
        log.exception("could not mail the notification confirmation to user %s", mail.user_id)


# --- pages ---------------------------------------------------------------------------------


@html.get("/notifications")
def notifications_page(request: Request):
    user = auth.current_user(request)
    if user is None:
        return RedirectResponse("/signin?next=%2Fnotifications", status_code=303)
    ctx = service.overview(app_context(request).db, user)
    ctx["page_title"] = "Notifications"
    return page_response(request, "notifications.html", ctx, headers={"Cache-Control": "no-store"})


@html.post("/notifications/read")
def mark_read_form(request: Request, id: str = Form("")):
    """Mark one notification (``id``) or all of them read."""
    from paperwire.web.inputs import parse_id

    user = auth.require_signed_in(request)
    one = parse_id(id, "id")
    service.mark_read(app_context(request).db, user, [one] if one is not None else None)
    return RedirectResponse("/notifications", status_code=303)


@html.post("/profile/notifications")
def email_preference_form(request: Request, email: str = Form("")):
    user = auth.require_signed_in(request)
    settings = app_context(request).settings
    on = email in ("1", "on", "true")
    choice = service.set_email(settings, app_context(request).db, user, on)
    if choice.confirmation is not None:
        response = RedirectResponse("/profile?notify=check-mail#notifications", status_code=303)
        response.background = BackgroundTask(_deliver_later, settings, choice.confirmation)
        return response
    state = "check-mail" if choice.waiting else ("on" if choice.on else "off")
    return RedirectResponse(f"/profile?notify={state}#notifications", status_code=303)


@html.get("/notifications/confirm/{token}")
def confirm_link(request: Request, token: str):
    try:
        service.confirm(app_context(request).settings, app_context(request).db, token)
    except TokenError as exc:
        return _message(
            request,
            "Link not valid",
            str(exc),
            status=400,
            link=("/profile#notifications", "Your profile"),
        )
    return _message(
        request,
        "Notification emails on",
        "Address confirmed: replies, mentions and comments on your papers will "
        "be emailed to you in batches.",
        link=("/notifications", "Notifications"),
    )


@html.get("/notifications/unsubscribe/{token}")
def unsubscribe_page(request: Request, token: str):
    try:
        service.check_unsubscribe(app_context(request).settings, token)
    except TokenError as exc:
        return _message(request, "Link not valid", str(exc), status=400)
    return page_response(
        request,
        "notifications_unsubscribe.html",
        {"page_title": "Stop notification emails", "token": token},
    )


@html.post("/notifications/unsubscribe/{token}")
def unsubscribe(request: Request, token: str):
    try:
        service.unsubscribe(app_context(request).settings, app_context(request).db, token)
    except TokenError as exc:
        return _message(request, "Link not valid", str(exc), status=400)
    return _message(
        request,
        "No more notification emails",
        "You will get no more notification emails. Your notifications stay on "
        "the site; switch emails on again on your profile.",
    )


# --- API -----------------------------------------------------------------------------------


class MarkReadBody(BaseModel):
    ids: list[IdField] | None = Field(
        None, max_length=1000, description="notification ids; omitted: all"
    )


@api.get(
    "/notifications",
    summary="Your notifications, newest first",
    response_model=None,
    responses={200: {"model": NotificationsOut}, **error_responses(401)},
)
def api_notifications(request: Request, user=Depends(auth.require_api_user)):
    ctx = service.overview(app_context(request).db, user)
    return {"unread": ctx["unread"], "items": [notification_json(v) for v in ctx["items"]]}


@api.post(
    "/notifications/read",
    summary="Mark notifications read",
    response_model=None,
    responses={200: {"model": MarkedReadOut}, **error_responses(401)},
)
def api_mark_read(
    request: Request,
    body: MarkReadBody = Body(default_factory=lambda: MarkReadBody(ids=None)),
    user=Depends(auth.require_api_user),
):
    db = app_context(request).db
    marked = service.mark_read(db, user, body.ids)
    return {"marked": marked, "unread": service.unread_count(db, user)}


router.include_router(html)
router.include_router(api)
