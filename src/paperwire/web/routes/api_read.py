"""The read side of the JSON API (shapes follow the public Daily Papers API).

- ``GET /api/daily_papers?date=|week=|month=&sort=upvotes|trending|publishedAt&limit=&p=&has=``
- ``GET /api/papers/search?q=&limit=&mode=&sort=&p=`` (headers: ``X-Total-Count`` = size of
  the whole result set, ``X-Total-Is-Estimate``, ``X-Has-More``, ``X-Search-Notices``
  UTF-8 percent-encoded)
- ``GET /api/papers/{id}``, ``GET /api/papers/{id}/similar``

Responses are built from the same page contexts as the HTML pages; their shapes are
declared in ``web.schemas``. Errors are ``{"error", "detail"}`` with 400 / 404 / 413 / 422, and 503 + Retry-After from
``similar`` while semantic search is not ready (see ``web.errors``).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse

from paperwire.errors import BadInput
from paperwire.web import feed_pages, paper_page, search_page
from paperwire.web.appcontext import app_context
from paperwire.web.errors import error_responses, unavailable_response
from paperwire.web.jsonresp import JSONResponse
from paperwire.web.page_common import MAX_LIMIT
from paperwire.web.pages import current_user
from paperwire.web.paper_urls import canonical_id, paper_path
from paperwire.web.schemas import (
    DailyPaperOut,
    PaperDetailOut,
    SearchResultOut,
    SimilarOut,
)

router = APIRouter(prefix="/api", tags=["papers"])


ERRORS = error_responses(404)


def _json(data, headers=None) -> JSONResponse:
    return JSONResponse(data, headers=headers)


@router.get(
    "/daily_papers",
    response_model=None,
    responses={200: {"model": list[DailyPaperOut]}, **ERRORS},
    summary="Papers on the daily feed of a day, week or month",
)
def daily_papers(
    request: Request,
    date: str | None = Query(None, description="YYYY-MM-DD"),
    week: str | None = Query(None, description="YYYY-Www"),
    month: str | None = Query(None, description="YYYY-MM"),
    sort: str | None = Query(None, description="upvotes (default), trending or publishedAt"),
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    p: int = Query(1, ge=1, le=100000, description="Page, from 1"),
    has: Literal["code", "model", "dataset", "demo", "project", "video"] | None = Query(
        None, description="Only papers with a link of this kind (code: with code)"
    ),
):
    ctx = feed_pages.feed_context(
        app_context(request),
        user=current_user(request),
        date=date,
        week=week,
        month=month,
        sort=sort,
        page=p,
        limit=limit,
        has=has,
    )
    return _json(ctx["items"], headers={"X-Total-Count": str(ctx["total"])})


@router.get(
    "/papers/search",
    response_model=None,
    responses={200: {"model": list[SearchResultOut]}, **ERRORS},
    summary="Hybrid search (query language: phrases, -exclusion, author:, cat:, after:, "
    "before:, has:)",
)
def search_papers(
    request: Request,
    q: str = Query(..., max_length=1000),
    limit: int = Query(20, ge=1, le=MAX_LIMIT),
    mode: str | None = Query(None, description="hybrid (default), lexical or semantic"),
    sort: str | None = Query(None, description="relevance (default), newest or upvotes"),
    p: int = Query(1, ge=1, le=1000),
    has: Literal["code", "model", "dataset", "demo", "project", "video"] | None = Query(
        None, description="Only papers with a link of this kind (as has:code)"
    ),
):
    if not q.strip():
        raise BadInput("q must not be empty")
    ctx = search_page.search_context(
        app_context(request),
        q=q,
        user=current_user(request),
        mode=mode,
        sort=sort,
        page=p,
        limit=limit,
        has=has,
        html=False,
    )
    out = [
        {
            "paper": i["paper"],
            "score": i["score"],
            "highlights": i["highlights"],
            "matchedBy": i["matchedBy"],
            "similarity": i["similarity"],
        }
        for i in ctx["items"]
    ]
    # The total is the size of the whole result set (the same for every page and limit).
    headers = {
        "X-Total-Count": str(ctx["total"]),
        "X-Total-Is-Estimate": "true" if ctx["total_is_estimate"] else "false",
        "X-Has-More": "true" if ctx["has_more"] else "false",
    }
    if ctx["notices"]:
        # Notices (a malformed part of the query, an index still building) travel in a header
        # so the body keeps the public API's plain list shape. They hold the user's text and
        # typographic characters, and header values must be ASCII: UTF-8, percent-encoded.
        headers["X-Search-Notices"] = header_text(" | ".join(ctx["notices"]))
    return _json(out, headers=headers)


def header_text(text: str, limit: int = 2000) -> str:
    """Any text as an HTTP header value: UTF-8 percent-encoded (RFC 3986; decode with
    ``urllib.parse.unquote``), printable ASCII except ``%`` kept as is, cut at a character
    boundary to ``limit`` characters of the original."""
    from urllib.parse import quote

    text = " ".join(text[:limit].split())  # no CR/LF/tabs in a header
    return quote(text, safe=" !\"#$&'()*+,-./:;<=>?@[\\]^_`{|}~")


@router.get(
    "/papers/{paper_id:path}/similar",
    response_model=None,
    responses={
        200: {"model": list[SimilarOut]},
        **ERRORS,
        **unavailable_response(
            "Semantic search is not ready (its model is "
            "still being prepared on a first start) or not "
            "working; see Retry-After"
        ),
    },
    summary="Papers similar to this one (nearest neighbours of its embedding)",
)
def similar(request: Request, paper_id: str, limit: int = Query(10, ge=1, le=MAX_LIMIT)):
    ctx = paper_page.similar_context(app_context(request), paper_id, limit=limit)
    return _json(ctx["items"])


@router.get(
    "/papers/{paper_id:path}",
    response_model=None,
    responses={
        200: {"model": PaperDetailOut},
        **ERRORS,
        308: {
            "description": "A versioned id (2104.12255v2), an arXiv: id or "
            "an arxiv.org URL: redirects to the paper's "
            "canonical id"
        },
    },
    summary="One paper",
)
def get_paper(request: Request, paper_id: str):
    target = canonical_id(paper_id)
    if target is not None:
        # A versioned id or an arXiv URL: the paper's one address (clients follow it).
        return RedirectResponse("/api" + paper_path(target), status_code=308)
    ctx = paper_page.paper_context(
        app_context(request), paper_id, user=current_user(request), with_similar=False
    )
    paper = dict(ctx["paper"])
    paper.update(
        submittedOnDailyAt=ctx["submittedOnDailyAt"],
        submittedBy=ctx["submittedBy"],
        onFeedDay=ctx["day"],
        bibtex=ctx["bibtex"],
        isAuthorParticipating=ctx["isAuthorParticipating"],
    )
    return _json(paper)
