"""Submitting a paper to today's feed: the form (``/submit``) and the JSON API. Both call
``services/submissions.py`` (quota, age, duplicates, the arXiv fetch); a refusal comes back
on the form with the reason and what was typed, or as the API's error with its status.
Every submission is rate-limited per user."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from pydantic import BaseModel, Field

from paperwire.services.api_objects import feed_item_json
from paperwire.services.submissions import SubmitRefused, submit_paper, used_today
from paperwire.store.models import User
from paperwire.store.papers import get_paper
from paperwire.web import auth
from paperwire.web.appcontext import app_context, invalidate_pages
from paperwire.web.errors import error_responses
from paperwire.web.forms import redirect
from paperwire.web.pages import page_response
from paperwire.web.schemas import DailyPaperOut
from paperwire.web.security import rate_limit

router = APIRouter()
html = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["write"])

WRITE_ERRORS = error_responses(401, 403, 404, 429)


def _submit_context(request: Request, user: User | None, **extra: Any) -> dict[str, Any]:
    ctx = app_context(request)
    context: dict[str, Any] = {
        "page_title": "Submit a paper",
        "error": None,
        "value": "",
        "done": None,
        "quota": ctx.settings.submit_daily_quota,
        "max_age": ctx.settings.submit_max_age_days,
        "used": 0,
    }
    if user is not None:
        context["used"] = used_today(ctx.settings, ctx.db, user)
    context.update(extra)
    return context


@html.get("/submit")
def submit_page(request: Request, done: str = "", paper: str = ""):
    """The submit form; ``paper`` fills it in (the "not here yet" page of an unknown arXiv
    paper links here; nothing is fetched until the form is posted)."""
    paper = paper.strip()[:300]
    user = auth.current_user(request)
    if user is None:
        back_to = "/submit" + (f"?paper={quote(paper, safe='')}" if paper else "")
        return redirect(f"/signin?next={quote(back_to, safe='')}")
    done_paper = None
    if done:
        with app_context(request).db.session() as session:
            done_paper = get_paper(session, done)
    return page_response(
        request, "submit.html", _submit_context(request, user, done=done_paper, value=paper)
    )


@html.post("/submit")
def submit_form(request: Request, paper: str = Form("")):
    user = auth.current_user(request)
    if user is None:
        return redirect("/signin?next=%2Fsubmit")
    rate_limit(request, "submit", user=user)
    ctx = app_context(request)
    try:
        result = submit_paper(ctx.settings, ctx.db, user, paper)
    except SubmitRefused as exc:
        return page_response(
            request,
            "submit.html",
            _submit_context(request, user, error=exc, value=paper),
            status_code=exc.status_code,
            headers=exc.headers,
        )
    invalidate_pages(request)  # (a fetched paper was already announced to search by the fetch)
    return redirect(f"/submit?done={quote(result.paper.id, safe='/')}")


class SubmitBody(BaseModel):
    id: str = Field(
        ..., description="arXiv id (2104.12255, hep-th/9901001) or abs/pdf URL", max_length=300
    )


@api.post(
    "/papers/submit",
    status_code=201,
    summary="Put a paper on today's feed",
    response_model=None,
    responses={201: {"model": DailyPaperOut}, **WRITE_ERRORS, **error_responses(409, 503)},
)
def api_submit(
    request: Request, body: SubmitBody, user: User = Depends(auth.require_api_user)
) -> dict[str, Any]:
    rate_limit(request, "submit", user=user)
    ctx = app_context(request)
    result = submit_paper(ctx.settings, ctx.db, user, body.id)
    invalidate_pages(request)
    return feed_item_json(result.paper, result.entry, user.username)


router.include_router(html)
router.include_router(api)
