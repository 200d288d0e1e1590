"""The search page ``/search?q=&category=&from=&to=&has=&sort=&mode=&p=`` (``has=code``: the
"With code" box, the same as ``has:code`` in the query)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from paperwire.errors import BadInput
from paperwire.web.appcontext import app_context
from paperwire.web.pages import current_user, page_response
from paperwire.web.paper_urls import search_target
from paperwire.web.search_page import SEARCH_MODES, SEARCH_SORTS, search_context

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


@router.get("/search")
def search_page(
    request: Request,
    q: str = "",
    category: str | None = None,
    date_from: str | None = Query(None, alias="from"),
    date_to: str | None = Query(None, alias="to"),
    sort: str | None = None,
    mode: str | None = None,
    p: int | None = Query(None, ge=1, le=1000),
    has: str | None = Query(None, max_length=20),
):
    # A pasted arXiv URL or id is not a search: go to the paper (or the offer to fetch it).
    target = search_target(q)
    if target is not None:
        return RedirectResponse(target, status_code=303)
    base = {
        "q": q,
        "category": category or "",
        "from": date_from or "",
        "to": date_to or "",
        "sort": sort or "",
        "mode": mode or "",
        "has": has or "",
    }
    search_base_url = "/search?" + urlencode({k: v for k, v in base.items() if v})
    try:
        ctx = search_context(
            app_context(request),
            q=q,
            user=current_user(request),
            mode=mode,
            sort=sort,
            page=p,
            category=category,
            date_from=date_from,
            date_to=date_to,
            has=has,
        )
        status = 200
    except BadInput as exc:
        # A malformed form still gets the search page, with the reason, not a bare error.
        ctx = {
            "q": q,
            "query": "",
            "mode": mode if mode in SEARCH_MODES else "hybrid",
            "sort": sort if sort in SEARCH_SORTS else "relevance",
            "category": category or "",
            "date_from": date_from or "",
            "date_to": date_to or "",
            "has": has or "",
            "items": [],
            "total": 0,
            "notices": [str(exc)],
            "page": 1,
            "has_more": False,
            "upvoted": set(),
        }
        status = 400
    ctx["search_base_url"] = search_base_url
    return page_response(request, "search.html", ctx, status_code=status)
