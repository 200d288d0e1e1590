"""The paper page's contexts: the paper with its thread, and its similar papers (the lazily
loaded section, the full page without JavaScript, and the JSON endpoint).

Invariants:
- A hidden paper is NotFound except for administrators (the JSON similar endpoint: for
  everyone).
- Search trouble never breaks a page: similar papers then come back empty with a notice;
  only the JSON endpoint answers 503 (``Unavailable``), saying whether to ask again soon.
"""

from __future__ import annotations

import logging
from typing import Any

from paperwire import stored
from paperwire.errors import BadInput, NotFound, PaperwireError, SemanticUnavailable
from paperwire.services.api_objects import comment_thread, feed_item_json, paper_json
from paperwire.services.library_export import bibtex
from paperwire.store import author_claims, listing
from paperwire.store import comments as comment_store
from paperwire.store.authors import strict_keys_of as stored_keys
from paperwire.store.models import User
from paperwire.store.papers import get_paper
from paperwire.web import links as web_links
from paperwire.web.appcontext import AppContext
from paperwire.web.errors import Unavailable
from paperwire.web.page_common import MAX_LIMIT, cached, check_paper_id, upvoted

log = logging.getLogger(__name__)

SIMILAR_PREPARING = (
    "Similar papers need semantic search, whose model is still being prepared "
    "(first start, a few minutes); ask again shortly."
)
SIMILAR_NOT_READY = "Similar papers will appear here once the search index is ready."
# When to ask again (Retry-After) while the model is prepared, and when semantic search failed.
SIMILAR_RETRY_PREPARING, SIMILAR_RETRY_FAILED = 30, 300
SIMILAR_ON_PAGE = 6


def attach_links(ctx: AppContext, items: list[dict[str, Any]]) -> None:
    """The visible links (code, project page...) of the papers of ``items``."""
    if items:
        # A plain connection: an ORM session's execute path cost as much as the statement.
        with ctx.db.engine.connect() as conn:
            web_links.attach(conn, [i["paper"] for i in items])


def similar_papers(
    ctx: AppContext, paper_id: str, limit: int = 6
) -> tuple[list[dict[str, Any]], list[str]]:
    """Similar papers as (items, notices); search trouble gives a notice, never an error.

    Kept for minutes in ``ctx.similar_cache``: neighbours change only when papers are
    embedded, and the list shows no votes. An empty list is not kept: it mostly means the
    paper is not embedded yet (a first start embeds the demo papers minutes after the model
    is ready), and it would hide the neighbours for the cache's minutes."""
    result: tuple[list[dict[str, Any]], list[str]] = ctx.similar_cache.get_or_compute(
        ("similar", paper_id, limit),
        lambda: _similar_papers(ctx, paper_id, limit),
        keep=lambda result: bool(result[0]) and not result[1],
    )
    return result


def _similar_papers(
    ctx: AppContext, paper_id: str, limit: int
) -> tuple[list[dict[str, Any]], list[str]]:
    try:
        hits = ctx.search().similar(paper_id, limit=limit)
    except NotFound:
        return [], []
    except SemanticUnavailable as exc:
        if exc.preparing:
            return [], [SIMILAR_PREPARING]
        return [], [f"Similar papers are not available yet: {exc}"]
    except PaperwireError as exc:
        return [], [f"Similar papers are not available yet: {exc}"]
    except Exception as exc:  # noqa: BLE001 - the page must render without similar papers
        log.warning("similar papers for %s unavailable: %s", paper_id, exc)
        return [], ["Similar papers are not available right now."]
    items = [
        {"paper": paper_json(hit.paper), "score": float(hit.score)}
        for hit in hits
        if hit.paper is not None and not hit.paper.hidden
    ]
    attach_links(ctx, items)
    return items, []


def _similar_when_ready(
    ctx: AppContext, paper_id: str, limit: int
) -> tuple[list[dict[str, Any]], list[str]]:
    if ctx.similar_ready.is_set():
        return similar_papers(ctx, paper_id, limit=limit)
    return [], [SIMILAR_NOT_READY]


def paper_context(
    ctx: AppContext, paper_id: str, *, user: User | None = None, with_similar: bool = True
) -> dict[str, Any]:
    db = ctx.db
    paper_id = check_paper_id(paper_id)
    is_admin = bool(user is not None and user.is_admin)

    def compute() -> dict[str, Any]:
        with db.session() as s:
            found = listing.paper_with_entry(s, paper_id)
            if found is None or (found[0].hidden and not is_admin):
                raise NotFound(f"no paper with id {paper_id!r}")
            paper, entry, submitter = found
            # num_comments counts visible comments (kept in step by the comment functions):
            # most papers have none, and then the page needs no second statement.
            views = comment_store.list_comments(s, paper_id) if paper.num_comments else []
            claimants = author_claims.claimants(s, stored_keys(paper.authors))
            item = feed_item_json(paper, entry, submitter)
            web_links.attach(s, [item["paper"]])
        from paperwire.web.author_pages import decorate_authors

        decorate_authors(item["paper"], claimants)
        author_users = {uid for uid, _ in claimants.values()}
        item["comments"] = comment_thread(views, author_users)
        item["isAuthorParticipating"] = any(c["isAuthor"] for c in item["comments"])
        similar: list[dict[str, Any]] = []
        notices: list[str] = []
        if with_similar:
            similar, notices = _similar_when_ready(ctx, paper_id, SIMILAR_ON_PAGE)
        item["similar"] = similar
        item["notices"] = notices
        item["bibtex"] = bibtex(paper)
        return item

    data = cached(ctx, user, ("paper", paper_id, with_similar), compute)
    out = dict(data)
    out["upvoted"] = upvoted(ctx, user, [data]) if user is not None else set()
    out["on_feed"] = data["day"] is not None
    return out


def similar_fragment_context(
    ctx: AppContext, paper_id: str, *, user: User | None = None
) -> dict[str, Any]:
    """Similar papers for the paper page's lazily loaded section (``/papers/{id}/similar``):
    the page itself never waits for the nearest-neighbour search. NotFound for a missing
    paper, or a hidden one unless ``user`` is an admin."""
    paper_id = check_paper_id(paper_id)
    with ctx.db.session() as s:
        paper = get_paper(s, paper_id)
        if paper is None or (paper.hidden and not (user is not None and user.is_admin)):
            raise NotFound(f"no paper with id {paper_id!r}")
        title = stored.text(paper.title)
    items, notices = _similar_when_ready(ctx, paper_id, SIMILAR_ON_PAGE)
    return {
        "paper": {"id": paper_id, "title": title},
        "similar": items,
        "notices": notices,
        "page_title": "Similar papers",
    }


def similar_context(ctx: AppContext, paper_id: str, *, limit: int = 10) -> dict[str, Any]:
    """Similar papers of an existing, visible paper (NotFound otherwise). Without the
    semantic side there is no answer (an empty list would mean "nothing is similar"): raises
    ``Unavailable`` (503 + Retry-After), which says whether the model is still being
    prepared."""
    paper_id = check_paper_id(paper_id)
    if not 1 <= limit <= MAX_LIMIT:
        raise BadInput(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    with ctx.db.session() as s:
        paper = get_paper(s, paper_id)
        if paper is None or paper.hidden:
            raise NotFound(f"no paper with id {paper_id!r}")
    items, notices = similar_papers(ctx, paper_id, limit=limit)
    if notices:
        preparing = notices[0] == SIMILAR_PREPARING
        raise Unavailable(
            notices[0], retry_after=SIMILAR_RETRY_PREPARING if preparing else SIMILAR_RETRY_FAILED
        )
    return {"items": items, "notices": notices}
