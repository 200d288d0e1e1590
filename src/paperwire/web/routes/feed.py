"""Feed pages: ``/``, ``/papers?date=``, ``/papers/week/YYYY-Www``, ``/papers/month/YYYY-MM``,
``/trending``. Thin handlers: parse, call ``render``, return the page."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from paperwire.web import render
from paperwire.web.pages import current_user, page_response

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

Page = Query(None, ge=1, le=100000, description="Page number, from 1")


@router.get("/")
def home(request: Request, p: int | None = Page):
    ctx = render.feed_context(request.app.state, user=current_user(request), page=p)
    return page_response(request, "feed.html", ctx)


@router.get("/papers")
def day(request: Request, date: str | None = None, sort: str | None = None,
        p: int | None = Page):
    ctx = render.feed_context(request.app.state, user=current_user(request), date=date,
                              sort=sort, page=p)
    return page_response(request, "feed.html", ctx)


@router.get("/papers/week/{week}")
def week(request: Request, week: str, sort: str | None = None, p: int | None = Page):
    ctx = render.feed_context(request.app.state, user=current_user(request), week=week,
                              sort=sort, page=p)
    return page_response(request, "feed.html", ctx)


@router.get("/papers/month/{month}")
def month(request: Request, month: str, sort: str | None = None, p: int | None = Page):
    ctx = render.feed_context(request.app.state, user=current_user(request), month=month,
                              sort=sort, page=p)
    return page_response(request, "feed.html", ctx)


@router.get("/trending")
def trending(request: Request, window: str | None = None, p: int | None = Page):
    ctx = render.trending_context(request.app.state, user=current_user(request),
                                  window=window, page=p)
    return page_response(request, "feed.html", ctx)
