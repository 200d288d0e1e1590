"""The personal library on the web: Save / "more like this" / "not interested" buttons, the
Library page, the "What your recommendations learn from" page, exports, and their JSON API.

Forms post with the session cookie and a CSRF token (``SecurityMiddleware``); each answers
JSON (``MarksOut``) when asked (``Accept: application/json``, token in ``X-CSRF-Token``), for
the page script, else redirects back. The API under ``/api/me`` needs a personal API token:
401 without one. Every handler acts on the caller's own library only (services.library).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, Response

from paperwire.errors import BadInput
from paperwire.services import library as service
from paperwire.services import library_export as export
from paperwire.web import auth, forms
from paperwire.web.appcontext import app_context, invalidate_pages
from paperwire.web.errors import error_responses, wants_json
from paperwire.web.inputs import parse_id
from paperwire.web.library_views import library_context, signals_context
from paperwire.web.page_common import check_paper_id
from paperwire.web.pages import page_response
from paperwire.web.schemas import AccountExportOut, LibraryOut, MarksOut, SignalsOut
from paperwire.web.security import rate_limit

if TYPE_CHECKING:
    from paperwire.store.db import Database

router = APIRouter()
html = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["library"])

ME_ERRORS = error_responses(401, 404, 429)


def marks_json(m: service.PaperMarks) -> dict:
    return {"paperId": m.paper_id, "saved": m.saved, "feedback": m.feedback, "lists": m.lists}


def _answer(request: Request, m: service.PaperMarks, back: str):
    if wants_json(request):
        return JSONResponse(marks_json(m))
    return forms.redirect(back)


# --- buttons -------------------------------------------------------------------------------


@html.post("/papers/{paper_id:path}/save")
def save_form(request: Request, paper_id: str, saved: str = Form(""), list_id: str = Form("")):
    """Toggle (or with ``saved=1``/``0`` set) the paper in the library; ``list_id`` also
    adds it to that list of the member."""
    paper_id = check_paper_id(paper_id)
    user = auth.current_user(request)
    back = forms.back(request, f"/papers/{paper_id}")
    if user is None:
        return forms.signin_first(request, back)
    rate_limit(request, "vote", user=user)
    target = parse_id(list_id, "list_id")
    db = app_context(request).db
    if saved in ("1", "true", "on"):
        m = service.save(db, user.id, paper_id, list_ids=[target] if target else None)
    elif saved in ("0", "false", "off"):
        m = service.save(db, user.id, paper_id, saved=False)
    elif target:
        m = service.save(db, user.id, paper_id, list_ids=[target])
    else:
        m = service.toggle_save(db, user.id, paper_id)
    return _answer(request, m, back)


@html.post("/papers/{paper_id:path}/feedback")
def feedback_form(request: Request, paper_id: str, kind: str = Form("")):
    """``kind`` = ``more`` (more like this) or ``less`` (not interested); posting the mark the
    paper has already, or ``none``, clears it."""
    paper_id = check_paper_id(paper_id)
    user = auth.current_user(request)
    back = forms.back(request, f"/papers/{paper_id}")
    if user is None:
        return forms.signin_first(request, back)
    rate_limit(request, "vote", user=user)
    db = app_context(request).db
    current = service.marks(db, user.id, paper_id).feedback
    wanted = None if kind in ("", "none") or kind == current else kind
    return _answer(request, service.set_feedback(db, user.id, paper_id, wanted), back)


# --- pages ---------------------------------------------------------------------------------


@html.get("/library")
def library_page(request: Request, p: int | None = Query(None)):
    user = auth.current_user(request)
    if user is None:
        return forms.redirect("/signin?next=%2Flibrary")
    settings = app_context(request).settings
    ctx = library_context(
        app_context(request).db, user, page=p, default_limit=settings.library_page_size
    )
    if wants_json(request):
        return JSONResponse(ctx)
    ctx["items"] = [{"paper": item["paper"], "savedAt": item["savedAt"]} for item in ctx["papers"]]
    ctx["page_title"] = "Your library"
    return page_response(request, "library/library.html", ctx)


@html.get("/library/export.{fmt}")
def library_export(request: Request, fmt: str):
    user = auth.current_user(request)
    if user is None:
        return forms.redirect("/signin?next=%2Flibrary")
    return _export(
        app_context(request).db,
        fmt,
        "library",
        lambda s: export.library_bibtex(s, user.id),
        lambda s: export.library_json(s, user.id),
    )


def _export(db: Database, fmt: str, name: str, bib, as_json):
    if fmt not in ("bib", "json"):
        raise BadInput(f"export as .bib or .json, not .{fmt[:20]}")
    with db.session() as s:
        if fmt == "bib":
            return Response(
                bib(s),
                media_type="application/x-bibtex; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}.bib"'},
            )
        return JSONResponse(
            as_json(s), headers={"Content-Disposition": f'attachment; filename="{name}.json"'}
        )


@html.get("/signals")
def signals_page(request: Request, done: str = ""):
    user = auth.current_user(request)
    if user is None:
        return forms.redirect("/signin?next=%2Fsignals")
    ctx = signals_context(app_context(request).db, user)
    if wants_json(request):
        return JSONResponse(ctx)
    ctx.update(
        page_title="What your recommendations learn from", done=done, error=None, topic_value=""
    )
    return page_response(request, "library/signals.html", ctx)


@html.post("/signals/topics")
def follow_topic_form(request: Request, topic: str = Form("")):
    user = auth.current_user(request)
    if user is None:
        return forms.signin_first(request, "/signals")
    rate_limit(request, "vote", user=user)
    try:
        service.follow_topic(app_context(request).db, user.id, topic)
    except BadInput as exc:
        ctx = signals_context(app_context(request).db, user)
        ctx.update(
            page_title="What your recommendations learn from",
            done="",
            error=str(exc),
            topic_value=topic,
        )
        return page_response(request, "library/signals.html", ctx, status_code=400)
    return forms.redirect("/signals?done=topic#topics")


@html.post("/signals/topics/remove")
def unfollow_topic_form(request: Request, topic: str = Form("")):
    user = auth.current_user(request)
    if user is None:
        return forms.signin_first(request, "/signals")
    service.unfollow_topic(app_context(request).db, user.id, topic)
    return forms.redirect(forms.back(request, "/signals"))


@html.post("/signals/clear")
def clear_form(request: Request, confirm: str = Form("")):
    user = auth.current_user(request)
    if user is None:
        return forms.signin_first(request, "/signals")
    if confirm != "yes":
        raise BadInput("tick the box to confirm that every signal should be cleared")
    service.clear_signals(app_context(request).db, user.id)
    invalidate_pages(request)  # upvote counts changed
    return forms.redirect("/signals?done=cleared")


@html.get("/account/export.json")
def account_export_download(request: Request):
    user = auth.current_user(request)
    if user is None:
        return forms.redirect("/signin?next=%2Fprofile")
    with app_context(request).db.session() as s:
        data = export.account_export(s, user)
    return JSONResponse(
        data,
        headers={"Content-Disposition": f'attachment; filename="paperwire-{user.username}.json"'},
    )


# --- JSON API (personal API token) ---------------------------------------------------------


@api.get(
    "/me/library",
    summary="Your saved papers, lists and followed lists",
    response_model=None,
    responses={200: {"model": LibraryOut}, **ME_ERRORS},
)
def api_library(
    request: Request,
    p: int | None = Query(None, ge=1, le=100000),
    limit: int | None = Query(None, ge=1, le=100),
    user=Depends(auth.require_api_user),
):
    settings = app_context(request).settings
    return library_context(
        app_context(request).db, user, page=p, limit=limit, default_limit=settings.library_page_size
    )


@api.post(
    "/papers/{paper_id:path}/save",
    summary="Save a paper to your library (idempotent)",
    response_model=None,
    responses={200: {"model": MarksOut}, **ME_ERRORS},
)
def api_save(request: Request, paper_id: str, user=Depends(auth.require_api_user)):
    rate_limit(request, "vote", user=user)
    return marks_json(service.save(app_context(request).db, user.id, check_paper_id(paper_id)))


@api.delete(
    "/papers/{paper_id:path}/save",
    summary="Remove a paper from your library",
    response_model=None,
    responses={200: {"model": MarksOut}, **ME_ERRORS},
)
def api_unsave(request: Request, paper_id: str, user=Depends(auth.require_api_user)):
    rate_limit(request, "vote", user=user)
    return marks_json(
        service.save(app_context(request).db, user.id, check_paper_id(paper_id), saved=False)
    )


@api.put(
    "/papers/{paper_id:path}/feedback",
    summary='Mark a paper "more like this" (more), "not interested" (less) or clear (none)',
    response_model=None,
    responses={200: {"model": MarksOut}, **ME_ERRORS},
)
def api_feedback(
    request: Request,
    paper_id: str,
    kind: str = Query(..., pattern="^(more|less|none)$"),
    user=Depends(auth.require_api_user),
):
    rate_limit(request, "vote", user=user)
    return marks_json(
        service.set_feedback(
            app_context(request).db,
            user.id,
            check_paper_id(paper_id),
            None if kind == "none" else kind,
        )
    )


@api.get(
    "/me/signals",
    summary="Everything your recommendations learn from",
    response_model=None,
    responses={200: {"model": SignalsOut}, **ME_ERRORS},
)
def api_signals(request: Request, user=Depends(auth.require_api_user)):
    ctx = signals_context(app_context(request).db, user)
    for key in ("upvoted", "saved", "moreLikeThis", "notInterested"):
        ctx[key] = [{"paperId": i["paperId"], "at": i["at"]} for i in ctx[key]]
    ctx.pop("followedLists", None)
    return ctx


@api.get(
    "/me/export",
    summary="Download all your data (account export)",
    response_model=None,
    responses={200: {"model": AccountExportOut}, **ME_ERRORS},
)
def api_export(request: Request, user=Depends(auth.require_api_user)):
    with app_context(request).db.session() as s:
        return export.account_export(s, user)


router.include_router(html)
router.include_router(api)
