"""Recommendations on the web: the "For you" tab (``/for-you``), its JSON twin
``GET /api/me/recommendations`` (Bearer token), one list's recommendations
(``GET /api/me/lists/{id}/recommendations``; the list page shows them to its owner), and the one-click "more like this" / "not
interested" links of the digest's "Recommended for you" section (``/r/feedback``).

Thin handlers: both the page and the API call ``for_you_context`` (services/recommendations.py
does the work). Only the signed-in member (session or token) sees their recommendations: the
page sends others to sign in, the API answers 401 without a token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse

from paperwire.services import feedback_links
from paperwire.services.api_objects import paper_json
from paperwire.store.db import Database
from paperwire.store.models import User
from paperwire.web import auth
from paperwire.web.appcontext import AppContext, app_context
from paperwire.web.errors import error_responses
from paperwire.web.inputs import IdPath
from paperwire.web.jsonresp import JSONResponse
from paperwire.web.page_common import MAX_LIMIT
from paperwire.web.pages import current_user, page_response
from paperwire.web.schemas import RecommendationOut

if TYPE_CHECKING:
    from paperwire.services.recommendations import Recommended

router = APIRouter()
html = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
api = APIRouter(prefix="/api", tags=["me"])


def recommendation_items(db: Database, recs: list[Recommended]) -> list[dict[str, Any]]:
    """Recommendations as API items (``paper`` as everywhere, plus the reason); hidden
    papers are left out."""
    from paperwire.store.papers import get_papers

    with db.session() as s:
        papers = get_papers(s, [r.paper_id for r in recs])
        return [
            {
                "paper": paper_json(papers[r.paper_id]),
                "score": round(r.score, 6),
                "reason": r.reason,
                "reasonKind": r.reason_kind,
                "reasonLabel": r.reason_label,
                "reasonPaperId": r.reason_paper_id,
            }
            for r in recs
            if r.paper_id in papers and not papers[r.paper_id].hidden
        ]


def list_recommendations(
    ctx: AppContext, user: User, list_id: int, *, limit: int | None = None
) -> list[dict[str, Any]]:
    """One of the member's lists' recommendations as API items (NotFound, so 404, unless
    ``user`` owns the list)."""
    from paperwire.services.recommendations import for_list

    return recommendation_items(
        ctx.db, for_list(ctx.db, ctx.settings, user.id, list_id, limit=limit)
    )


def for_you_context(ctx: AppContext, user: User, *, limit: int | None = None) -> dict[str, Any]:
    """The member's recommendations as API items (``paper`` as everywhere, plus the reason),
    and whether they have told us anything yet (the onboarding step shows when not)."""
    from paperwire.services.recommendations import recommendations_for
    from paperwire.store.library import member_signals

    recs = recommendations_for(ctx.settings, ctx.db, user.id, limit=limit)
    items = recommendation_items(ctx.db, recs)
    with ctx.db.session() as s:
        sig = member_signals(s, user.id)
    out: dict[str, Any] = {
        "items": items,
        "has_signals": not sig.is_empty,
        "topics": sig.topics,
        "label": "For you",
        "onboarding": sig.is_empty,
        "suggested_topics": [],
        "onboard_message": None,
        "onboard_error": None,
    }
    if sig.is_empty:
        from paperwire.services.onboarding import suggested_topics
        from paperwire.services.recommendations import pool_for

        with ctx.db.session() as s:
            out["suggested_topics"] = suggested_topics(
                pool_for(s, ctx.settings, db=ctx.db).texts.values()
            )
    return out


@html.get("/for-you")
async def for_you(request: Request):
    user = current_user(request)
    if user is None:
        return RedirectResponse(f"/signin?next={quote('/for-you', safe='')}", status_code=303)
    ctx = await run_in_threadpool(for_you_context, app_context(request), user)
    return page_response(request, "for_you.html", ctx)


@html.post("/for-you/start")
def for_you_start(
    request: Request, topic: list[str] = Form([]), topics: str = Form(""), papers: str = Form("")
):
    """The onboarding form: follow the ticked and typed topics, save the pasted papers."""
    from paperwire.errors import BadInput
    from paperwire.services.onboarding import onboard
    from paperwire.web.security import rate_limit

    user = current_user(request)
    if user is None:
        return RedirectResponse(f"/signin?next={quote('/for-you', safe='')}", status_code=303)
    rate_limit(request, "vote", user=user)
    wanted = list(topic) + [t for t in topics.splitlines() if t.strip()]
    try:
        result = onboard(app_context(request).db, user.id, wanted, papers)
    except BadInput as exc:
        ctx = for_you_context(app_context(request), user)
        ctx.update(onboarding=True, onboard_error=str(exc))
        return page_response(request, "for_you.html", ctx, status_code=400)
    ctx = for_you_context(app_context(request), user)
    if not result.topics and not result.saved:
        ctx.update(onboarding=True)
    ctx["onboard_message"] = result.message()
    return page_response(request, "for_you.html", ctx)


@html.post("/for-you/feedback")
def for_you_feedback(
    request: Request, paper_id: str = Form("", max_length=64), kind: str = Form("", max_length=8)
):
    """The For you page's buttons: "more like this" (``more``) or "not interested" (``less``)
    on one of the member's recommendations; back to the page, which recomputes (the signals
    changed), so a rejected paper and its near duplicates are gone at once."""
    from paperwire.errors import BadInput
    from paperwire.store.library import require_visible_paper, set_feedback
    from paperwire.web.security import rate_limit

    user = current_user(request)
    if user is None:
        return RedirectResponse(f"/signin?next={quote('/for-you', safe='')}", status_code=303)
    if kind not in ("more", "less"):
        raise BadInput("kind must be 'more' (more like this) or 'less' (not interested)")
    rate_limit(request, "vote", user=user)
    with app_context(request).db.session() as s:
        require_visible_paper(s, paper_id)
        set_feedback(s, user.id, paper_id, kind)
    return RedirectResponse("/for-you", status_code=303)


def _only_limit(request: Request) -> None:
    """The recommendation endpoints' document allows only ``limit``; a typo (``limt=5``) is
    said, not ignored."""
    from paperwire.errors import BadInput

    unknown = sorted(set(request.query_params) - {"limit"})
    if unknown:
        raise BadInput(f"unknown query parameter {unknown[0]!r} (only 'limit' is accepted)")


@api.get(
    "/me/recommendations",
    response_model=None,
    responses={200: {"model": list[RecommendationOut]}, **error_responses(401)},
    summary="Papers recommended to the token's member, each with the reason in words",
)
def api_recommendations(
    request: Request,
    limit: int = Query(30, ge=1, le=MAX_LIMIT),
    user=Depends(auth.require_api_user),
):
    _only_limit(request)
    return JSONResponse(for_you_context(app_context(request), user, limit=limit)["items"])


@api.get(
    "/me/lists/{list_id}/recommendations",
    response_model=None,
    responses={200: {"model": list[RecommendationOut]}, **error_responses(401, 404)},
    summary="Papers recommended for one of the token's member's lists (its papers are "
    "what the model learns from), each with the reason in words",
)
def api_list_recommendations(
    request: Request,
    list_id: IdPath,
    limit: int = Query(30, ge=1, le=MAX_LIMIT),
    user=Depends(auth.require_api_user),
):
    _only_limit(request)
    return JSONResponse(list_recommendations(app_context(request), user, list_id, limit=limit))


# --- the digest's one-click links ---------------------------------------------------------------


@html.get("/r/feedback")
def feedback_page(request: Request, t: str = Query("", max_length=400)):
    """Shows what the link will do, with one button (mail scanners that fetch links change
    nothing: the mark is set by the POST)."""
    ctx = app_context(request)
    try:
        link = feedback_links.read_link(ctx.settings, ctx.db, t)
    except feedback_links.FeedbackError as exc:
        return _feedback_refused(request, exc)
    return page_response(
        request,
        "recommend_feedback.html",
        {
            "token": t,
            "kind": link.payload.kind,
            "title": link.title or link.payload.paper_id,
            "paper_id": link.payload.paper_id,
            "error": None,
            "done": False,
        },
    )


@html.post("/r/feedback")
def feedback_apply(request: Request, t: str = Form("", max_length=400)):
    ctx = app_context(request)
    try:
        payload = feedback_links.apply_link(ctx.settings, ctx.db, t)
    except feedback_links.FeedbackError as exc:
        return _feedback_refused(request, exc)
    return page_response(
        request,
        "recommend_feedback.html",
        {
            "token": "",
            "kind": payload.kind,
            "paper_id": payload.paper_id,
            "title": None,
            "error": None,
            "done": True,
        },
    )


def _feedback_refused(request: Request, exc: Exception) -> HTMLResponse:
    return page_response(
        request, "recommend_feedback.html", {"error": str(exc), "token": ""}, status_code=400
    )


router.include_router(html)
router.include_router(api)
