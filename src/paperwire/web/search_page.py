"""The search page's context (``/search``, ``/api/search``, the search Atom feed): the search
box and the form's filters, written in the query language and answered by the one search
function (``SearchService.search``: set, order, total and pages all come from it).

Invariant: the form's filters and the typed query go through the same parser; a filter the
language cannot express is refused with BadInput before any search runs.
"""

from __future__ import annotations

import re
from typing import Any

from paperwire.errors import BadInput
from paperwire.services.api_objects import paper_json
from paperwire.store.models import User
from paperwire.web import periods
from paperwire.web.appcontext import AppContext
from paperwire.web.page_common import check_has, check_text, page_args, upvoted
from paperwire.web.paper_page import attach_links

SEARCH_MODES = ("hybrid", "lexical", "semantic")
SEARCH_SORTS = ("relevance", "newest", "upvotes")


def build_query(
    q: str,
    *,
    category: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    has: str | None = None,
) -> str:
    """The search box text plus the form's filters, written in the query language (so the
    one parser handles both and the URL of a filtered search stays readable)."""
    parts = [(q or "").strip()]
    if category and category.strip():
        cat = category.strip()
        if not re.fullmatch(r"[A-Za-z0-9.\-*]+", cat):
            raise BadInput(f"category must look like cs.CL or q-bio.*, got {cat!r}")
        parts.append(f"cat:{cat}")
    if date_from and date_from.strip():
        parts.append(f"after:{periods.parse_day(date_from, 'from')}")
    if date_to and date_to.strip():
        after_to = periods.add_days(periods.parse_day(date_to, "to"), 1)
        if after_to is not None:  # to=9999-12-31 bounds nothing: every date is on or before it
            parts.append(f"before:{after_to}")
    if check_has(has):
        parts.append(f"has:{has}")
    return " ".join(p for p in parts if p)


def search_context(
    ctx: AppContext,
    *,
    q: str,
    user: User | None = None,
    mode: str | None = None,
    sort: str | None = None,
    page: int | None = None,
    limit: int | None = None,
    category: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    has: str | None = None,
    html: bool = True,
) -> dict[str, Any]:
    """The result page of a search for the HTML page and the JSON API alike; ``html=False``
    (the API, which shows neither) leaves out the marked-up ``titleHtml``/``snippetHtml``."""
    mode = mode or "hybrid"
    if mode not in SEARCH_MODES:
        raise BadInput(f"mode must be one of {', '.join(SEARCH_MODES)}, got {mode!r}")
    sort = sort or "relevance"
    if sort not in SEARCH_SORTS:
        raise BadInput(f"sort must be one of {', '.join(SEARCH_SORTS)}, got {sort!r}")
    page, limit = page_args(page, limit, ctx.settings.feed_page_size)
    q = (q or "").strip()
    out: dict[str, Any] = {
        "q": q,
        "mode": mode,
        "sort": sort,
        "page": page,
        "limit": limit,
        "category": category or "",
        "date_from": date_from or "",
        "date_to": date_to or "",
        "has": has or "",
        "items": [],
        "total": 0,
        "notices": [],
        "total_is_estimate": False,
        "suggestions": [],
        "has_more": False,
        "upvoted": set(),
    }
    check_text(q, "the query")
    check_text(category, "category", 100)
    query = build_query(q, category=category, date_from=date_from, date_to=date_to, has=has)
    out["query"] = query
    if not query:
        return out
    service = ctx.search()
    offset = (page - 1) * limit
    # The one search function: set, order, total and pages all come from it.
    response = service.search(query, mode=mode, sort=sort, filters=None, limit=limit, offset=offset)
    items: list[dict[str, Any]] = []
    for hit in response.hits:
        paper = hit.paper
        if paper is None or paper.hidden:
            continue
        item = {
            "paper": paper_json(paper),
            "score": float(hit.score),
            "highlights": list(hit.highlights),
            "matchedBy": sorted(hit.matched_by),
            "similarity": (None if hit.similarity is None else round(float(hit.similarity), 4)),
        }
        if html:
            item.update(snippetHtml=hit.snippet_html, titleHtml=hit.title_html)
        items.append(item)
    attach_links(ctx, items)
    out.update(
        items=items,
        total=int(response.total),
        notices=list(response.notices or []),
        total_is_estimate=bool(response.total_is_estimate),
        suggestions=list(response.suggestions),
        has_more=bool(response.has_more),
    )
    out["upvoted"] = upvoted(ctx, user, items)
    return out
