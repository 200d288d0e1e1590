"""Named lists on the web: create, rename, make public or private, delete, add and remove
papers, import, export; a public list's page, Atom feed and JSON, and following it.

A private list is 404 for everyone but its owner (page, feed, JSON, exports): its existence
is private too. Owner actions go through ``services.library``, which checks ownership.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Body, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from paperwire.errors import BadInput
from paperwire.services import library as service
from paperwire.services import library_export as export
from paperwire.store import lists as list_store
from paperwire.store.models import utcnow
from paperwire.web import auth, forms
from paperwire.web.appcontext import app_context
from paperwire.web.atom import build_feed
from paperwire.web.errors import error_responses, wants_json
from paperwire.web.inputs import IdPath
from paperwire.web.library_views import list_context, list_summary
from paperwire.web.page_common import check_paper_id
from paperwire.web.pages import current_user, page_response
from paperwire.web.routes.feeds_atom import ATOM
from paperwire.web.routes.library import _export
from paperwire.web.schemas import ImportOut, ListOut, ListSummaryOut
from paperwire.web.security import rate_limit

if TYPE_CHECKING:
    from paperwire.store.db import Database

router = APIRouter()
html = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["library"])
feeds = APIRouter(prefix="/feeds", tags=["feeds"])

MAX_UPLOAD = 2_000_000


def _owner(request: Request, back: str):
    user = auth.current_user(request)
    if user is None:
        return None, forms.signin_first(request, back)
    rate_limit(request, "vote", user=user)
    return user, None


def _flag(value: str) -> bool:
    return value in ("1", "true", "on", "yes")


# --- HTML ------------------------------------------------------------------------------------


@html.post("/lists")
def create_form(
    request: Request, name: str = Form(""), public: str = Form(""), paper_id: str = Form("")
):
    """Create a list; with ``paper_id`` (the Save menu's "new list") the paper goes in it."""
    user, refusal = _owner(request, "/library")
    if refusal:
        return refusal
    db = app_context(request).db
    row = service.create_list(db, user.id, name, is_public=_flag(public))
    if paper_id:
        pid = check_paper_id(paper_id)
        service.save(db, user.id, pid, list_ids=[row.id])
        return forms.redirect(forms.back(request, f"/lists/{row.id}"))
    return forms.redirect(f"/lists/{row.id}")


@html.get("/lists/{list_id}")
def list_page(request: Request, list_id: IdPath, done: str = ""):
    viewer = current_user(request)
    ctx = list_context(app_context(request).db, list_id, viewer)
    if wants_json(request):
        return JSONResponse(ctx)
    ctx.update(page_title=ctx["name"], done=done, report=None, error=None)
    if ctx["isOwner"]:
        # Private to the owner, even on a public list: never in the JSON twin above.
        ctx["recommended"] = _recommended(request, viewer, list_id)
    return page_response(request, "library/list.html", ctx)


def _recommended(request: Request, viewer, list_id: int) -> list[dict]:
    """The list's recommendations for its owner; a failure (no model, a broken pool) leaves
    the section out rather than the list page."""
    import logging

    from paperwire.web.routes.recommend import list_recommendations

    try:
        return list_recommendations(app_context(request), viewer, list_id, limit=10)
    except Exception:  # noqa: BLE001 - the list itself must still show
        logging.getLogger(__name__).exception("recommendations for list %s failed", list_id)
        return []


@html.post("/lists/{list_id}/rename")
def rename_form(request: Request, list_id: IdPath, name: str = Form("")):
    user, refusal = _owner(request, f"/lists/{list_id}")
    if refusal:
        return refusal
    service.rename_list(app_context(request).db, user.id, list_id, name)
    return forms.redirect(f"/lists/{list_id}?done=renamed")


@html.post("/lists/{list_id}/visibility")
def visibility_form(request: Request, list_id: IdPath, public: str = Form("")):
    user, refusal = _owner(request, f"/lists/{list_id}")
    if refusal:
        return refusal
    service.set_public(app_context(request).db, user.id, list_id, _flag(public))
    return forms.redirect(f"/lists/{list_id}?done={'public' if _flag(public) else 'private'}")


@html.post("/lists/{list_id}/delete")
def delete_form(request: Request, list_id: IdPath):
    user, refusal = _owner(request, f"/lists/{list_id}")
    if refusal:
        return refusal
    service.delete_list(app_context(request).db, user.id, list_id)
    return forms.redirect("/library?done=deleted")


@html.post("/lists/{list_id}/papers")
def item_form(
    request: Request, list_id: IdPath, paper_id: str = Form(""), action: str = Form("add")
):
    user, refusal = _owner(request, f"/lists/{list_id}")
    if refusal:
        return refusal
    pid = check_paper_id(paper_id)
    db = app_context(request).db
    if action == "remove":
        service.remove_from_list(db, user.id, list_id, pid)
    else:
        service.add_to_list(db, user.id, list_id, pid)
    return forms.redirect(forms.back(request, f"/lists/{list_id}"))


@html.post("/lists/{list_id}/follow")
def follow_form(request: Request, list_id: IdPath, follow: str = Form("1")):
    user, refusal = _owner(request, f"/lists/{list_id}")
    if refusal:
        return refusal
    service.follow_list(app_context(request).db, user.id, list_id, _flag(follow))
    return forms.redirect(forms.back(request, f"/lists/{list_id}"))


@html.post("/lists/{list_id}/import")
async def import_form(
    request: Request, list_id: IdPath, text: str = Form(""), file: UploadFile | None = File(None)
):
    user, refusal = _owner(request, f"/lists/{list_id}")
    if refusal:
        return refusal
    body = text
    if file is not None and file.filename:
        raw = await file.read(MAX_UPLOAD + 1)
        if len(raw) > MAX_UPLOAD:
            raise BadInput(f"the file is larger than {MAX_UPLOAD // 1_000_000} MB")
        try:
            body = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            body = raw.decode("latin-1")
    from starlette.concurrency import run_in_threadpool

    state = app_context(request)
    viewer = current_user(request)
    try:
        report = await run_in_threadpool(
            service.import_into_list, state.settings, state.db, user.id, list_id, body
        )
        error = None
    except BadInput as exc:
        report, error = None, str(exc)
    if wants_json(request) and report is not None:
        return JSONResponse(report.as_json())
    ctx = await run_in_threadpool(list_context, state.db, list_id, viewer)
    ctx.update(page_title=ctx["name"], done="", report=report, error=error, import_text=text)
    return page_response(request, "library/list.html", ctx, status_code=400 if error else 200)


@html.post("/lists/{list_id}/pending/{import_id}/dismiss")
def dismiss_form(request: Request, list_id: IdPath, import_id: IdPath):
    user, refusal = _owner(request, f"/lists/{list_id}")
    if refusal:
        return refusal
    with app_context(request).db.session() as s:
        list_store.get_owned(s, user.id, list_id)
        list_store.dismiss_import(s, list_id, import_id)
    return forms.redirect(f"/lists/{list_id}")


@html.get("/lists/{list_id}/export.{fmt}")
def export_list(request: Request, list_id: IdPath, fmt: str):
    viewer = current_user(request)
    viewer_id = viewer.id if viewer is not None else None
    db = app_context(request).db
    with db.session() as s:
        row = list_store.get_visible(s, list_id, viewer_id)
        owner = list_store.owner_name(s, row)
    return _export(
        db,
        fmt,
        f"list-{list_id}",
        lambda s: export.list_bibtex(s, row),
        lambda s: export.list_json(s, row, owner=owner),
    )


# --- Atom feed of a public list --------------------------------------------------------------


@feeds.get(
    "/lists/{list_id}.atom",
    response_class=Response,
    summary="A public list's papers, most recently added first (Atom)",
    responses={
        200: {
            "description": "An Atom 1.0 feed",
            "content": {"application/atom+xml": {"schema": {"type": "string"}}},
        },
        **error_responses(404),
    },
)
def list_feed(request: Request, list_id: IdPath):
    ctx = list_context(app_context(request).db, list_id, None)  # public only
    settings = app_context(request).settings
    items = [
        {
            "paper": item["paper"],
            "submittedOnDailyAt": item["addedAt"],
            "numComments": item["paper"]["numComments"],
        }
        for item in ctx["papers"][:100]
    ]
    body = build_feed(
        base_url=settings.base_url,
        site_name=settings.site_name,
        now=utcnow(),
        feed_key=f"list/{list_id}",
        title=f"{settings.site_name}: {ctx['name']} (a list by {ctx['owner']})",
        self_path=f"/feeds/lists/{list_id}.atom",
        alternate_path=f"/lists/{list_id}",
        items=items,
    )
    return Response(body, media_type=ATOM, headers={"Cache-Control": "public, max-age=300"})


# --- JSON API --------------------------------------------------------------------------------


class ListBody(BaseModel):
    name: str = Field(..., max_length=200, description="The list's name (unique per member)")
    public: bool = Field(False, description="Anyone may read a public list")


class PaperBody(BaseModel):
    id: str = Field(..., max_length=300, description="A paper id (2104.12255)")


class ImportBody(BaseModel):
    text: str = Field(
        ...,
        max_length=2_000_000,
        description="arXiv ids/URLs (one per line), a BibTeX file, or a JSON export of a list",
    )


LIST_ERRORS = error_responses(401, 404, 409, 429)


@api.get(
    "/lists/{list_id}",
    summary="A list (public lists: anyone; private: its owner's token)",
    response_model=None,
    responses={200: {"model": ListOut}, **error_responses(401, 404)},
)
def api_list(request: Request, list_id: IdPath):
    user = auth.user_from_bearer(app_context(request).db, request.headers.get("authorization"))
    ctx = list_context(app_context(request).db, list_id, user)
    for key in ("isOwner", "following", "followers"):
        ctx.pop(key, None)
    return ctx


@api.get(
    "/me/lists",
    summary="Your lists",
    response_model=None,
    responses={200: {"model": list[ListSummaryOut]}, **error_responses(401)},
)
def api_my_lists(request: Request, user=Depends(auth.require_api_user)):
    with app_context(request).db.session() as s:
        return [list_summary(row, n) for row, n in list_store.lists_of(s, user.id)]


@api.post(
    "/me/lists",
    status_code=201,
    summary="Create a list",
    response_model=None,
    responses={201: {"model": ListSummaryOut}, **LIST_ERRORS},
)
def api_create_list(request: Request, body: ListBody, user=Depends(auth.require_api_user)):
    rate_limit(request, "vote", user=user)
    row = service.create_list(app_context(request).db, user.id, body.name, is_public=body.public)
    return list_summary(row, 0)


@api.post(
    "/lists/{list_id}/papers",
    summary="Add a paper to your list (idempotent)",
    response_model=None,
    responses={200: {"model": ListSummaryOut}, **LIST_ERRORS},
)
def api_add(
    request: Request,
    list_id: IdPath,
    body: PaperBody = Body(...),
    user=Depends(auth.require_api_user),
):
    rate_limit(request, "vote", user=user)
    db = app_context(request).db
    service.add_to_list(db, user.id, list_id, check_paper_id(body.id))
    return _summary(db, user.id, list_id)


@api.delete(
    "/lists/{list_id}/papers/{paper_id:path}",
    summary="Remove a paper from your list",
    response_model=None,
    responses={200: {"model": ListSummaryOut}, **LIST_ERRORS},
)
def api_remove(
    request: Request, list_id: IdPath, paper_id: str, user=Depends(auth.require_api_user)
):
    rate_limit(request, "vote", user=user)
    db = app_context(request).db
    service.remove_from_list(db, user.id, list_id, check_paper_id(paper_id))
    return _summary(db, user.id, list_id)


@api.post(
    "/lists/{list_id}/import",
    summary="Import papers into your list",
    response_model=None,
    responses={200: {"model": ImportOut}, **LIST_ERRORS},
)
def api_import(
    request: Request, list_id: IdPath, body: ImportBody, user=Depends(auth.require_api_user)
):
    rate_limit(request, "submit", user=user)
    state = app_context(request)
    return service.import_into_list(state.settings, state.db, user.id, list_id, body.text).as_json()


def _summary(db: Database, user_id: int, list_id: int) -> dict:
    with db.session() as s:
        row = list_store.get_owned(s, user_id, list_id)
        return list_summary(row, list_store.count_items(s, list_id))


router.include_router(html)
router.include_router(feeds)
router.include_router(api)
