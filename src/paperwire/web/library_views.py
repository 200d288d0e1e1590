"""Page contexts of the library area: one function per page, returning the dict that both
the HTML template and the JSON answer are made from (like the feed and paper pages).

Invariants: a context only ever holds the viewing member's own things, or a public list;
the functions take the viewer and go through ``store.lists.get_visible`` for lists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from paperwire.services.api_objects import iso, paper_json
from paperwire.services.library_export import list_json
from paperwire.store import library as store
from paperwire.store import lists as list_store
from paperwire.web.page_common import page_args

if TYPE_CHECKING:
    from paperwire.store.db import Database


def list_summary(row, count: int) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "public": bool(row.is_public),
        "count": count,
        "url": f"/lists/{row.id}",
    }


def library_context(
    db: Database,
    user,
    *,
    page: int | None = None,
    limit: int | None = None,
    default_limit: int = 30,
) -> dict[str, Any]:
    page, limit = page_args(page, limit, default_limit)
    with db.session() as s:
        total = store.count_saved(s, user.id)
        rows = store.saved_page(s, user.id, offset=(page - 1) * limit, limit=limit + 1)
        own = list_store.lists_of(s, user.id)
        followed = list_store.followed_lists(s, user.id)
    return {
        "papers": [
            {"id": p.id, "savedAt": iso(at), "paper": paper_json(p)} for p, at in rows[:limit]
        ],
        "page": page,
        "hasMore": len(rows) > limit,
        "total": total,
        "lists": [list_summary(row, n) for row, n in own],
        "followedLists": [
            {"id": row.id, "name": row.name, "owner": owner, "url": f"/lists/{row.id}"}
            for row, owner in followed
        ],
    }


def list_context(db: Database, list_id: int, viewer) -> dict[str, Any]:
    """A list as its owner or (when public) anyone sees it; NotFound otherwise."""
    viewer_id = viewer.id if viewer is not None else None
    with db.session() as s:
        row = list_store.get_visible(s, list_id, viewer_id)
        data = list_json(s, row, owner=list_store.owner_name(s, row))
        is_owner = viewer_id == row.user_id
        data["pending"] = (
            [
                {"arxivId": p.arxiv_id, "status": p.status, "error": p.error}
                for p in list_store.pending_for_list(s, row.id)
            ]
            if is_owner
            else []
        )
        data["isOwner"] = is_owner
        data["following"] = list_store.is_following(s, viewer_id, row.id)
        data["followers"] = list_store.count_followers(s, row.id) if is_owner else None
    return data


def signals_context(db: Database, user) -> dict[str, Any]:
    """Every signal of the member, with the paper titles the page shows."""
    from paperwire.services.library_export import _followed_authors
    from paperwire.store.models import Paper

    with db.session() as s:
        sig = store.member_signals(s, user.id)
        counts = {row.id: n for row, n in list_store.lists_of(s, user.id)}
        followed = list_store.followed_lists(s, user.id)
        ids = {p for p, _ in sig.upvoted + sig.saved + sig.more_like_this + sig.not_interested}
        titles = (
            dict(s.query(Paper.id, Paper.title).filter(Paper.id.in_(list(ids))).all())
            if ids
            else {}
        )
        authors = _followed_authors(s, user.id)

    def dated(pairs):
        return [{"paperId": p, "at": iso(at), "title": titles.get(p, p)} for p, at in pairs]

    return {
        "upvoted": dated(sig.upvoted),
        "saved": dated(sig.saved),
        "lists": [
            {
                "id": ls.id,
                "name": ls.name,
                "public": ls.is_public,
                "count": counts.get(ls.id, len(ls.paper_ids)),
                "url": f"/lists/{ls.id}",
            }
            for ls in sig.lists
        ],
        "followedLists": [
            {"id": row.id, "name": row.name, "owner": owner} for row, owner in followed
        ],
        "moreLikeThis": dated(sig.more_like_this),
        "notInterested": dated(sig.not_interested),
        "topics": sig.topics,
        "followedAuthors": authors,
    }
