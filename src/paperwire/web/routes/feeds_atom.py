"""Atom feeds: ``/feeds/daily.atom`` (the latest feed day), ``/feeds/trending.atom``
(this week's trending), ``/feeds/search.atom?q=`` (a saved search, newest first)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from paperwire.errors import BadInput
from paperwire.store.models import utcnow
from paperwire.web import feed_pages, search_page
from paperwire.web.appcontext import app_context
from paperwire.web.atom import build_feed
from paperwire.web.errors import error_responses
from paperwire.web.page_common import MAX_LIMIT

ATOM = "application/atom+xml; charset=utf-8"
# The contract: 200 is an Atom document; errors are ``{"error", "detail"}`` JSON.
router = APIRouter(
    prefix="/feeds",
    tags=["feeds"],
    responses={
        200: {
            "description": "An Atom 1.0 feed",
            "content": {"application/atom+xml": {"schema": {"type": "string"}}},
        },
        **error_responses(404),
    },
)


def _atom(request: Request, **kw) -> Response:
    settings = app_context(request).settings
    body = build_feed(base_url=settings.base_url, site_name=settings.site_name, now=utcnow(), **kw)
    return Response(body, media_type=ATOM, headers={"Cache-Control": "public, max-age=300"})


@router.get("/daily.atom", response_class=Response, summary="The latest day's feed (Atom)")
def daily(request: Request, date: str | None = None):
    ctx = feed_pages.feed_context(app_context(request), date=date, limit=MAX_LIMIT)
    settings = app_context(request).settings
    return _atom(
        request,
        feed_key="daily",
        title=f"{settings.site_name}: daily papers",
        self_path="/feeds/daily.atom",
        alternate_path=f"/papers?date={ctx['start']}",
        items=ctx["items"],
    )


@router.get("/trending.atom", response_class=Response, summary="Trending papers (Atom)")
def trending(request: Request, window: str | None = None):
    ctx = feed_pages.trending_context(app_context(request), window=window, limit=50)
    settings = app_context(request).settings
    return _atom(
        request,
        feed_key=f"trending/{ctx['window']}",
        title=f"{settings.site_name}: {ctx['label'].lower()}",
        self_path="/feeds/trending.atom",
        alternate_path=f"/trending?window={ctx['window']}",
        items=ctx["items"],
    )


@router.get(
    "/search.atom", response_class=Response, summary="Newest papers matching a search (Atom)"
)
def search(
    request: Request,
    q: str = Query(..., max_length=1000),
    mode: str | None = Query(None, description="hybrid (default), lexical or semantic"),
):
    if not q.strip():
        raise BadInput("q must not be empty")
    ctx = search_page.search_context(app_context(request), q=q, mode=mode, sort="newest", limit=50)
    settings = app_context(request).settings
    qs = urlencode({"q": q})
    return _atom(
        request,
        feed_key=f"search/{q}",
        title=f"{settings.site_name}: search “{q}”",
        self_path=f"/feeds/search.atom?{qs}",
        alternate_path=f"/search?{qs}&sort=newest",
        items=ctx["items"],
    )
