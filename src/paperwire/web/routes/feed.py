"""Feed pages: ``/``, ``/papers?date=``, ``/papers/week/YYYY-Www``, ``/papers/month/YYYY-MM``,
``/trending``. Thin handlers: parse, call ``feed_pages``, return the page (anonymous pages come
from the page cache)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from paperwire.web import feed_pages
from paperwire.web.appcontext import app_context
from paperwire.web.pages import cached_page_async, current_user

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

Page = Query(None, ge=1, le=100000, description="Page number, from 1")
Has = Query(None, max_length=20, description="Only papers with a link of this kind (code)")


async def _feed(request: Request, **kwargs) -> HTMLResponse:
    ctx, user = app_context(request), current_user(request)
    return await cached_page_async(
        request, "feed.html", lambda: feed_pages.feed_context(ctx, user=user, **kwargs)
    )


@router.get("/")
async def home(request: Request, p: int | None = Page, has: str | None = Has):
    return await _feed(request, page=p, has=has)


@router.get("/papers")
async def day(
    request: Request,
    date: str | None = None,
    sort: str | None = None,
    p: int | None = Page,
    has: str | None = Has,
):
    return await _feed(request, date=date, sort=sort, page=p, has=has)


@router.get("/papers/week/{week}")
async def week(
    request: Request,
    week: str,
    sort: str | None = None,
    p: int | None = Page,
    has: str | None = Has,
):
    return await _feed(request, week=week, sort=sort, page=p, has=has)


@router.get("/papers/month/{month}")
async def month(
    request: Request,
    month: str,
    sort: str | None = None,
    p: int | None = Page,
    has: str | None = Has,
):
    return await _feed(request, month=month, sort=sort, page=p, has=has)


@router.get("/trending")
async def trending(
    request: Request, window: str | None = None, p: int | None = Page, has: str | None = Has
):
    ctx, user = app_context(request), current_user(request)
    return await cached_page_async(
        request,
        "feed.html",
        lambda: feed_pages.trending_context(ctx, user=user, window=window, page=p, has=has),
    )
