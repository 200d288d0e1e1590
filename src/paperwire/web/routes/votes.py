"""Upvotes: the paper page's form (and its script, which asks for JSON) and the JSON API.

- a vote or a vote withdrawal only ever concerns the caller's own vote
  (``services/votes.py``); every vote is rate-limited per user;
- an anonymous upvote is remembered (``web/intents.py``) and counted once the visitor has
  signed in or up.

``POST /papers/{id}/upvote`` also answers JSON (``{paperId, upvoted, upvotes}``) when the
request asks for it (``Accept: application/json``), for the page script that votes without a
reload; it then takes the CSRF token from the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse

from paperwire.services import votes
from paperwire.store.models import User
from paperwire.web import auth, intents
from paperwire.web.appcontext import app_context, invalidate_pages
from paperwire.web.errors import error_responses, wants_json
from paperwire.web.forms import back, paper_url, redirect
from paperwire.web.page_common import check_paper_id
from paperwire.web.schemas import VoteOut
from paperwire.web.security import rate_limit

router = APIRouter()
html = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["write"])

# What each kind of API write can answer besides success (all as ``ErrorOut``).
WRITE_ERRORS = error_responses(401, 403, 404, 429)

_YES, _NO = ("1", "true", "on"), ("0", "false", "off")


def vote_json(result: votes.VoteResult) -> dict[str, Any]:
    return {
        "paperId": result.paper_id,
        "upvoted": result.upvoted,
        "upvotes": result.upvotes,
        "changed": result.changed,
    }


def _vote(request: Request, user: User, paper_id: str, upvoted: bool | None) -> votes.VoteResult:
    rate_limit(request, "vote", user=user)
    result = votes.vote(app_context(request).db, user, paper_id, upvoted)
    if result.changed:
        invalidate_pages(request)
    return result


def _vote_needs_account(
    request: Request, paper_id: str, back_to: str, vote: str
) -> JSONResponse | RedirectResponse:
    """An anonymous upvote: remember it (``web/intents.py``), send the visitor to sign in,
    where the page says that voting needs an account and that this vote will be counted."""
    response: JSONResponse | RedirectResponse
    if wants_json(request):
        response = JSONResponse(
            {
                "error": "unauthorized",
                "detail": "upvoting needs an account: sign in or sign up and "
                "your upvote will be counted",
            },
            status_code=401,
        )
    else:
        response = redirect(f"/signin?next={quote(back_to, safe='')}")
    if vote not in _NO:
        intents.remember_vote(response, app_context(request).settings, check_paper_id(paper_id))
    return response


@html.post("/papers/{paper_id:path}/upvote")
def upvote_form(request: Request, paper_id: str, vote: str = Form("")):
    """Toggle (or, with ``vote=1``/``vote=0``, set) the signed-in user's vote."""
    user = auth.current_user(request)
    back_to = back(request, paper_url(paper_id))
    if user is None:
        return _vote_needs_account(request, paper_id, back_to, vote)
    result = _vote(
        request, user, paper_id, True if vote in _YES else False if vote in _NO else None
    )
    if wants_json(request):
        return JSONResponse(vote_json(result))
    return redirect(back_to)


@api.post(
    "/papers/{paper_id:path}/upvote",
    summary="Upvote a paper (idempotent)",
    response_model=None,
    responses={200: {"model": VoteOut}, **WRITE_ERRORS},
)
def api_upvote(request: Request, paper_id: str, user: User = Depends(auth.require_api_user)):
    return vote_json(_vote(request, user, paper_id, True))


@api.delete(
    "/papers/{paper_id:path}/upvote",
    summary="Withdraw your upvote (idempotent)",
    response_model=None,
    responses={200: {"model": VoteOut}, **WRITE_ERRORS},
)
def api_unvote(request: Request, paper_id: str, user: User = Depends(auth.require_api_user)):
    return vote_json(_vote(request, user, paper_id, False))


router.include_router(html)
router.include_router(api)
