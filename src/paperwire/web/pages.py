"""Jinja environment and the one way handlers turn a context into an HTML page.

Template globals every page can use (documented in ``templates/base.html`` too):
- ``static_url(name)``: URL of a file in ``web/static`` with a content-hash version query, so
  assets can be cached for a year and still change on deploy.
- ``csrf_field()``: the hidden ``<input name="csrf_token">`` for the current request, built from
  ``request.state.csrf_token`` (set by the accounts middleware); empty markup when unset.
- ``current_user``: ``request.state.user`` (a store ``User`` or None).
- ``unread_notifications()``: the signed-in member's unread notification count (header).
- ``math(text)``: LaTeX in ``$...$`` rendered to MathML, everything else escaped.
- filter ``marked_math``: search highlights (escaped text with ``<mark>``) with math rendered.
- ``site_name``, ``base_url``, ``settings``.
- ``card_marks(items)``: the signed-in member's Save / "more like this" / "not interested"
  marks on the cards of ``items`` (``services.library.card_marks``; two statements, none for
  anonymous visitors, so cached anonymous pages stay database-free).
- ``member_lists(paper_id)``: the signed-in member's lists as ``[{id, name, has}]`` (``has``:
  the paper is in it), for the paper page's "Add to list" menu; ``[]`` for visitors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool

from paperwire.config import Settings
from paperwire.markup.mathrender import render_marked_math, render_math
from paperwire.store.models import User
from paperwire.web import auth
from paperwire.web.appcontext import app_context

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


@lru_cache(maxsize=256)
def _static_version(name: str) -> str:
    path = STATIC_DIR / name
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except OSError:
        return "0"


def static_url(name: str) -> str:
    return f"/static/{name}?v={_static_version(name)}"


def current_user(request: Request) -> User | None:
    """The signed-in member (``auth.current_user``), None for visitors."""
    return auth.current_user(request)


def csrf_token(request: Request) -> str:
    return getattr(request.state, "csrf_token", "") or ""


TEASER_CHARS = 320


def teaser(text: str, limit: int = TEASER_CHARS) -> str:
    """The abstract cut at a word boundary; never cuts inside ``$...$`` math."""
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    cut = cut if cut > limit // 2 else limit
    head = text[:cut]
    if head.count("$") % 2:  # inside math: back off to before it opened
        head = head[: head.rfind("$")].rstrip()
    return head + " …"


def make_templates(settings: Settings) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    # Templates ship inside the package and change only on deploy (which restarts workers):
    # skip the per-render stat() of every template file.
    env.auto_reload = False
    env.globals.update(
        static_url=static_url,
        site_name=settings.site_name,
        base_url=settings.base_url.rstrip("/"),
        settings=settings,
    )
    env.filters["math"] = render_math
    env.filters["marked_math"] = render_marked_math
    env.globals["math"] = render_math
    env.filters["thousands"] = lambda n: f"{int(n or 0):,}"
    from paperwire.markup.mathrender import readable_text

    # ``plain``: for <title> and meta tags, math as readable text (not raw LaTeX).
    env.globals.update(
        teaser=teaser, plain=readable_text, card_marks=_card_marks, member_lists=_member_lists
    )
    return templates


@pass_context
def _card_marks(context, items) -> dict:
    from paperwire.services.library import card_marks

    user = context.get("current_user")
    if not user:
        return {"saved": set(), "feedback": {}}
    request = context["request"]
    ids = [(i.get("paper") or i)["id"] for i in items or ()]
    return card_marks(app_context(request).db, user, ids)


# Stands in for the CSRF token in cached HTML; swapped for the request's token on the way out.
_TOKEN_PLACEHOLDER = "__pw-csrf-token-placeholder__"


def _cache_key(request: Request, name: str, key: Any) -> tuple:
    return (
        "html",
        name,
        key if key is not None else str(request.url.path) + "?" + str(request.url.query),
    )


def _with_token(request: Request, html: str) -> HTMLResponse:
    return HTMLResponse(html.replace(_TOKEN_PLACEHOLDER, str(escape(csrf_token(request)))))


def cached_page(
    request: Request, name: str, build_context: Callable[[], dict[str, Any]], *, key: Any = None
) -> HTMLResponse:
    """An anonymous page from the per-worker page cache (``AppContext.cache``), rendered once
    per TTL with a placeholder CSRF token that is replaced per request; signed-in users get
    a fresh render (their page shows their own votes and name). Errors are never cached."""
    if current_user(request) is not None:
        return page_response(request, name, build_context())

    def render() -> str:
        return _render(request, name, build_context(), _TOKEN_PLACEHOLDER)

    html = app_context(request).cache.get_or_compute(_cache_key(request, name, key), render)
    return _with_token(request, html)


async def cached_page_async(
    request: Request, name: str, build_context: Callable[[], dict[str, Any]], *, key: Any = None
) -> HTMLResponse:
    """``cached_page`` for ``async def`` handlers: a cache hit is answered on the event loop
    (no thread hand-off, which costs more than the hit itself); a miss or a signed-in user's
    page (database work) runs in the threadpool as a sync handler would."""
    if current_user(request) is None:
        html = app_context(request).cache.peek(_cache_key(request, name, key))
        if html is not None:
            return _with_token(request, html)
    return await run_in_threadpool(cached_page, request, name, build_context, key=key)


def page_response(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render ``name`` with ``context`` plus the per-request globals."""
    html = _render(request, name, context, csrf_token(request))
    return HTMLResponse(html, status_code=status_code, headers=headers)


def _render(request: Request, name: str, context: dict[str, Any], token: str) -> str:
    templates: Jinja2Templates = app_context(request).templates

    def csrf_field() -> Markup:
        if not token:
            return Markup("")
        return Markup(f'<input type="hidden" name="csrf_token" value="{escape(token)}">')

    def unread_notifications() -> int:
        # Only signed-in pages call this (never cached: they are rendered per user).
        user = current_user(request)
        if user is None:
            return 0
        try:
            from paperwire.services.notifications import unread_count

            return unread_count(app_context(request).db, user)
        except Exception:  # noqa: BLE001 - a header badge must never break a page
            return 0

    ctx = dict(context)
    ctx.setdefault("page_title", None)
    ctx["unread_notifications"] = unread_notifications
    ctx.update(
        request=request,
        current_user=current_user(request),
        csrf_field=csrf_field,
        csrf_token=token,
        path=request.url.path,
    )
    return templates.get_template(name).render(ctx)


@pass_context
def _member_lists(context, paper_id: str) -> list[dict]:
    from paperwire.store import lists as list_store

    user = context.get("current_user")
    if not user:
        return []
    with app_context(context["request"]).db.session() as s:
        rows = list_store.lists_of(s, user.id)
        has = list_store.lists_containing(s, user.id, paper_id)
    return [{"id": row.id, "name": row.name, "has": row.id in has} for row, _n in rows]
