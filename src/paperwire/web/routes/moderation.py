"""Moderation of papers: hide one from every list, show it again (administrators only,
``services/moderation.py``), as the paper page's forms and as the JSON API; and ``/api/me``,
which says whose API token this is and whether they may moderate."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from paperwire.services import moderation
from paperwire.store.models import User
from paperwire.web import auth
from paperwire.web.appcontext import app_context, invalidate_pages
from paperwire.web.errors import error_responses
from paperwire.web.forms import paper_url, redirect, signin_first
from paperwire.web.schemas import HiddenOut, MeOut

router = APIRouter()
html = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["write"])

WRITE_ERRORS = error_responses(401, 403, 404, 429)


def _set_hidden(request: Request, user: User, paper_id: str, hidden: bool) -> bool:
    changed = moderation.set_hidden(app_context(request).db, user, paper_id, hidden)
    if changed:
        invalidate_pages(request)
    return changed


def _hide_form(request: Request, paper_id: str, hidden: bool) -> RedirectResponse:
    user = auth.current_user(request)
    if user is None:
        return signin_first(request, paper_url(paper_id))
    _set_hidden(request, user, paper_id, hidden)
    return redirect(paper_url(paper_id))


@html.post("/papers/{paper_id:path}/hide")
def hide_form(request: Request, paper_id: str) -> RedirectResponse:
    return _hide_form(request, paper_id, True)


@html.post("/papers/{paper_id:path}/unhide")
def unhide_form(request: Request, paper_id: str) -> RedirectResponse:
    return _hide_form(request, paper_id, False)


@api.get(
    "/me",
    summary="The user of the API token",
    response_model=None,
    responses={200: {"model": MeOut}, **error_responses(401)},
)
def api_me(request: Request, user: User = Depends(auth.require_api_user)) -> dict[str, Any]:
    return {"name": user.username, "isAdmin": bool(user.is_admin)}


@api.post(
    "/papers/{paper_id:path}/hide",
    summary="Hide a paper from the feed (admins)",
    response_model=None,
    responses={200: {"model": HiddenOut}, **WRITE_ERRORS},
)
def api_hide(
    request: Request, paper_id: str, user: User = Depends(auth.require_api_user)
) -> dict[str, Any]:
    changed = _set_hidden(request, user, paper_id, True)
    return {"paperId": paper_id, "hidden": True, "changed": changed}


@api.post(
    "/papers/{paper_id:path}/unhide",
    summary="Show a hidden paper again (admins)",
    response_model=None,
    responses={200: {"model": HiddenOut}, **WRITE_ERRORS},
)
def api_unhide(
    request: Request, paper_id: str, user: User = Depends(auth.require_api_user)
) -> dict[str, Any]:
    changed = _set_hidden(request, user, paper_id, False)
    return {"paperId": paper_id, "hidden": False, "changed": changed}


router.include_router(html)
router.include_router(api)
