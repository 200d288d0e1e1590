"""Links to code and resources: members add them on the paper page (and by the API), admins
moderate them on ``/admin/links``. Thin handlers over ``services/links.py``, whose docstring
states the rules (member links show at once unless reviews are on; admins only moderate).

- ``POST /papers/{id}/links`` (form: url, kind) -> back to the paper's links, or the form again
  with the reason and what was typed (400/404/409/429);
- ``POST /api/papers/{id}/links`` (token; JSON ``{url, kind}``) -> 201 ``LinkAddedOut``;
- ``GET /admin/links?status=`` the moderation list; ``POST /admin/links/{id}/show|hide|delete``.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from paperwire.errors import BadInput, NotFound, PaperwireError
from paperwire.records.links import KIND_LABELS, KINDS, MAX_URL
from paperwire.services import links as service
from paperwire.store import links as store
from paperwire.store.models import Paper
from paperwire.web import auth, forms
from paperwire.web import links as web_links
from paperwire.web.appcontext import app_context, invalidate_pages
from paperwire.web.errors import error_responses
from paperwire.web.inputs import IdPath
from paperwire.web.page_common import check_paper_id
from paperwire.web.pages import page_response
from paperwire.web.schemas import LinkAddedOut
from paperwire.web.security import rate_limit

router = APIRouter()
html = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["write"])

ADMIN_PAGE = 100


def install(app) -> None:
    env = app_context(app).templates.env
    env.globals.update(
        link_badges=web_links.badges,
        link_groups=web_links.grouped,
        link_kinds=[(k, KIND_LABELS[k]) for k in KINDS],
    )


def _add(request: Request, user, paper_id: str, url: str, kind: str | None):
    paper_id = check_paper_id(paper_id)
    rate_limit(request, "link", user=user)
    added = service.add_link(
        app_context(request).settings, app_context(request).db, user, paper_id, url, kind
    )
    invalidate_pages(request)
    return added


@html.post("/papers/{paper_id:path}/links")
def add_link_form(request: Request, paper_id: str, url: str = Form(""), kind: str = Form("")):
    user = auth.current_user(request)
    back = f"/papers/{paper_id}#links"
    if user is None:
        return RedirectResponse(f"/signin?next={quote(back, safe='')}", status_code=303)
    try:
        added = _add(request, user, paper_id, url, kind or None)
    except (BadInput, store.LinkExists, service.DailyLimit) as exc:
        # Nothing typed is lost: the form comes back with the address and the reason.
        with app_context(request).db.session() as session:
            paper = session.get(Paper, check_paper_id(paper_id))
        if paper is None:
            raise NotFound(f"no paper with id {paper_id}") from None
        status = getattr(exc, "status_code", 400)
        return page_response(
            request,
            "links/link_form.html",
            {
                "page_title": "Add a link",
                "paper": paper,
                "url": url,
                "kind": kind,
                "error": str(exc),
            },
            status_code=status,
        )
    anchor = "links" if added.status == "visible" else "links-pending"
    return RedirectResponse(f"/papers/{paper_id}?link={added.status}#{anchor}", status_code=303)


class LinkBody(BaseModel):
    url: str = Field(
        ...,
        description="http(s) address of the code, model, dataset, demo, project page or video",
        max_length=MAX_URL * 2,
    )
    kind: str | None = Field(
        None,
        description="code, model, dataset, demo, project or video (default: from the address)",
        max_length=40,
    )


@api.post(
    "/papers/{paper_id:path}/links",
    status_code=201,
    response_model=None,
    summary="Add a link to the paper's code or another resource",
    responses={201: {"model": LinkAddedOut}, **error_responses(401, 403, 404, 409, 429)},
)
def api_add_link(
    request: Request, paper_id: str, body: LinkBody = Body(...), user=Depends(auth.require_api_user)
):
    added = _add(request, user, paper_id, body.url, body.kind)
    return {
        "id": added.id,
        "paperId": added.paper_id,
        "url": added.url,
        "kind": added.kind,
        "status": added.status,
    }


def _admin(request: Request):
    return auth.require_admin(auth.require_signed_in(request))


@html.get("/admin/links")
def admin_links(request: Request, status: str = "", source: str = "member", p: int = 1):
    _admin(request)
    if status and status not in store.STATUSES:
        raise BadInput(f"status must be one of {', '.join(store.STATUSES)}")
    if source not in ("member", "extracted", "demo", "all"):
        raise BadInput("source must be member, extracted, demo or all")
    if not 1 <= p <= 100_000:
        raise BadInput("p (page) must be between 1 and 100000")
    with app_context(request).db.session() as session:
        views, total = store.moderation_list(
            session,
            status=status or None,
            source=None if source == "all" else source,
            limit=ADMIN_PAGE,
            offset=(p - 1) * ADMIN_PAGE,
        )
    return page_response(
        request,
        "links/admin_links.html",
        {
            "page_title": "Links",
            "views": views,
            "total": total,
            "status": status,
            "source": source,
            "page": p,
            "has_more": p * ADMIN_PAGE < total,
            "statuses": store.STATUSES,
        },
    )


@html.post("/admin/links/{link_id}/{action}")
def moderate_form(request: Request, link_id: IdPath, action: str):
    user = _admin(request)
    if action not in ("show", "hide", "delete"):
        raise NotFound(f"nothing at {request.url.path}")
    try:
        service.moderate(app_context(request).db, user, link_id, action)
    except PaperwireError:
        raise
    invalidate_pages(request)

    return RedirectResponse(forms.back(request, "/admin/links"), status_code=303)


router.include_router(html)
router.include_router(api)
