"""Author pages, following authors and authorship claims, as pages and as the JSON API.

Pages: ``GET /authors/{name}`` (``?p=``); forms (signed in, CSRF): ``POST
/authors/{name}/follow``, ``/unfollow``, ``/claim``; ``POST /author-claims/{id}/release``
(the claimant); the admin queue ``GET /admin/authors/claims`` with ``POST
/admin/authors/claims/{id}/approve`` and ``/revoke``.

API: ``GET /api/authors/{name}?p=&limit=``; with a personal token ``POST`` / ``DELETE
/api/authors/{name}/follow``, ``POST /api/authors/{name}/claim``, ``GET /api/author-claims``
(yours; admins: everyone's, ``?status=``), ``POST /api/author-claims/{id}/release``,
``/approve``, ``/revoke``. The rules are those of ``services.authors`` for both.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse

from paperwire.services import authors as service
from paperwire.web import auth
from paperwire.web.appcontext import app_context, invalidate_pages
from paperwire.web.author_pages import api_json, author_context, author_url
from paperwire.web.errors import error_responses, wants_json
from paperwire.web.inputs import IdPath
from paperwire.web.jsonresp import JSONResponse
from paperwire.web.pages import cached_page_async, current_user, page_response
from paperwire.web.schemas import AuthorPageOut, ClaimOut, FollowOut
from paperwire.web.security import rate_limit

router = APIRouter()
html = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["authors"])

WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 429)


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _claim_step(
    request: Request, step: Callable[..., service.ClaimView], user: object, claim_id: int
) -> service.ClaimView:
    """One claim transition (``service.approve``, ``revoke`` or ``release``), then the cached
    pages it changes are dropped: the form and the API do exactly this."""
    view = step(app_context(request).db, user, claim_id)
    invalidate_pages(request)
    return view


def claim_json(view: service.ClaimView) -> dict:
    return {
        "id": view.id,
        "name": view.name,
        "strictKey": view.strict_key,
        "status": view.status,
        "rule": view.rule,
        "user": view.username,
    }


# --- pages -----------------------------------------------------------------------------------


@html.get("/admin/authors/claims")
def claims_page(request: Request, status: str | None = Query(None)):
    user = auth.require_admin(auth.require_signed_in(request))
    items = service.list_claims(app_context(request).db, status or None)
    return page_response(
        request,
        "admin/author_claims.html",
        {"page_title": "Authorship claims", "claims": items, "status": status, "me": user},
    )


@html.post("/admin/authors/claims/{claim_id}/approve")
def approve_form(request: Request, claim_id: IdPath):
    _claim_step(request, service.approve, auth.require_signed_in(request), claim_id)
    return _redirect("/admin/authors/claims")


@html.post("/admin/authors/claims/{claim_id}/revoke")
def revoke_form(request: Request, claim_id: IdPath):
    _claim_step(request, service.revoke, auth.require_signed_in(request), claim_id)
    return _redirect("/admin/authors/claims")


@html.post("/author-claims/{claim_id}/release")
def release_form(request: Request, claim_id: IdPath):
    view = _claim_step(request, service.release, auth.require_signed_in(request), claim_id)
    return _redirect(author_url(view.name))


def _signin(name: str) -> RedirectResponse:
    return _redirect(f"/signin?next={quote(author_url(name), safe='')}")


@html.post("/authors/{name:path}/follow")
def follow_form(request: Request, name: str):
    user = current_user(request)
    if user is None:
        return _signin(name)
    rate_limit(request, "follow", user=user)
    who, _ = service.follow(app_context(request).db, user, name)
    return _redirect(author_url(who.name))


@html.post("/authors/{name:path}/unfollow")
def unfollow_form(request: Request, name: str):
    user = current_user(request)
    if user is None:
        return _signin(name)
    rate_limit(request, "follow", user=user)
    service.unfollow(app_context(request).db, user, name)
    return _redirect(author_url(name))


@html.post("/authors/{name:path}/claim")
def claim_form(request: Request, name: str):
    user = current_user(request)
    if user is None:
        return _signin(name)
    rate_limit(request, "claim", user=user)
    view = service.claim(app_context(request).settings, app_context(request).db, user, name)
    invalidate_pages(request)
    if wants_json(request):
        return JSONResponse(claim_json(view), status_code=201)
    return _redirect(author_url(view.name))


@html.get("/authors/{name:path}")
async def author_page(request: Request, name: str, p: int | None = Query(None, ge=1, le=10**6)):
    return await cached_page_async(
        request,
        "author.html",
        lambda: {
            **author_context(app_context(request), name, user=current_user(request), page=p),
            "page_title": " ".join(name.split()),
        },
    )


# --- API -------------------------------------------------------------------------------------


@api.get(
    "/author-claims",
    summary="Authorship claims: yours (admins: everyone's)",
    response_model=None,
    responses={200: {"model": list[ClaimOut]}, **error_responses(400, 401)},
)
def api_claims(
    request: Request,
    status: str | None = Query(None, max_length=16),
    user=Depends(auth.require_api_user),
):
    user_id = None if user.is_admin else user.id
    return [
        claim_json(v) for v in service.list_claims(app_context(request).db, status, user_id=user_id)
    ]


@api.post(
    "/author-claims/{claim_id}/approve",
    summary="Approve a claim (admins)",
    response_model=None,
    responses={200: {"model": ClaimOut}, **WRITE_ERRORS},
)
def api_approve(request: Request, claim_id: IdPath, user=Depends(auth.require_api_user)):
    return claim_json(_claim_step(request, service.approve, user, claim_id))


@api.post(
    "/author-claims/{claim_id}/revoke",
    summary="Revoke or refuse a claim (admins)",
    response_model=None,
    responses={200: {"model": ClaimOut}, **WRITE_ERRORS},
)
def api_revoke(request: Request, claim_id: IdPath, user=Depends(auth.require_api_user)):
    return claim_json(_claim_step(request, service.revoke, user, claim_id))


@api.post(
    "/author-claims/{claim_id}/release",
    summary="Release your own claim",
    response_model=None,
    responses={200: {"model": ClaimOut}, **WRITE_ERRORS},
)
def api_release(request: Request, claim_id: IdPath, user=Depends(auth.require_api_user)):
    return claim_json(_claim_step(request, service.release, user, claim_id))


@api.post(
    "/authors/{name:path}/follow",
    summary="Follow an author (idempotent)",
    response_model=None,
    responses={200: {"model": FollowOut}, **WRITE_ERRORS},
)
def api_follow(request: Request, name: str, user=Depends(auth.require_api_user)):
    rate_limit(request, "follow", user=user)
    who, changed = service.follow(app_context(request).db, user, name)
    return {"name": who.name, "strictKey": who.strict_key, "following": True, "changed": changed}


@api.delete(
    "/authors/{name:path}/follow",
    summary="Stop following an author (idempotent)",
    response_model=None,
    responses={200: {"model": FollowOut}, **WRITE_ERRORS},
)
def api_unfollow(request: Request, name: str, user=Depends(auth.require_api_user)):
    from paperwire.authors.names import strict_key

    rate_limit(request, "follow", user=user)
    changed = service.unfollow(app_context(request).db, user, name)
    return {
        "name": " ".join(name.split()),
        "strictKey": strict_key(name),
        "following": False,
        "changed": changed,
    }


@api.post(
    "/authors/{name:path}/claim",
    status_code=201,
    summary="Claim authorship of a name (pending until approved)",
    response_model=None,
    responses={201: {"model": ClaimOut}, **WRITE_ERRORS},
)
def api_claim(request: Request, name: str, user=Depends(auth.require_api_user)):
    rate_limit(request, "claim", user=user)
    view = service.claim(app_context(request).settings, app_context(request).db, user, name)
    invalidate_pages(request)
    return claim_json(view)


@api.get(
    "/authors/{name:path}",
    summary="An author: papers newest first, co-authors, categories, papers on the feed",
    response_model=None,
    responses={200: {"model": AuthorPageOut}, **error_responses(400, 404)},
)
def api_author(
    request: Request,
    name: str,
    p: int | None = Query(None, ge=1, le=10**6),
    limit: int | None = Query(None, ge=1, le=100),
):
    ctx = author_context(
        app_context(request), name, user=current_user(request), page=p, limit=limit
    )
    return JSONResponse(api_json(ctx))


router.include_router(html)
router.include_router(api)
