"""The paper page ``/papers/{paper_id:path}`` (old-style ids contain a slash:
``/papers/hep-th/9901001``). Included last: its path converter matches everything under
/papers/, and other areas' POST routes there must be found first."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from paperwire.errors import NotFound
from paperwire.web.appcontext import app_context
from paperwire.web.pages import cached_page_async, current_user, page_response
from paperwire.web.paper_page import paper_context, similar_fragment_context
from paperwire.web.paper_urls import arxiv_id, canonical_id, paper_path

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


@router.get("/papers/{paper_id:path}/similar")
async def similar_papers(request: Request, paper_id: str):
    """The paper page's similar papers: a full page without JavaScript (the page links here),
    the bare list for the page script (``X-Fragment: 1``), which loads it after the page."""
    fragment = request.headers.get("x-fragment") == "1"
    response = await cached_page_async(
        request,
        "similar_fragment.html" if fragment else "similar.html",
        lambda: similar_fragment_context(
            app_context(request), paper_id, user=current_user(request)
        ),
    )
    response.headers["Vary"] = "X-Fragment"
    return response


@router.get("/papers/{paper_id:path}")
async def paper_page(request: Request, paper_id: str):
    # A versioned id, an arXiv: id or a pasted arxiv.org URL: the paper's one address.
    target = canonical_id(paper_id)
    if target is not None:
        return RedirectResponse(paper_path(target), status_code=301)
    # async: an anonymous cache hit is served on the event loop; misses go to the threadpool.
    try:
        return await cached_page_async(
            request,
            "paper.html",
            lambda: paper_context(
                app_context(request), paper_id, user=current_user(request), with_similar=False
            ),
        )
    except NotFound:
        if arxiv_id(paper_id) is None:
            raise
        # An arXiv paper this site does not have yet: say so and offer to fetch it.
        return page_response(
            request,
            "paper_missing.html",
            {"page_title": f"arXiv:{paper_id} is not here yet", "arxiv_id": paper_id},
            status_code=404,
        )
