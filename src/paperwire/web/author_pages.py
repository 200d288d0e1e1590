"""Author pages: the context both ``/authors/{name}`` and ``GET /api/authors/{name}`` are
made from, and the author decorations of paper objects (``_id``, claimed ``user``, the
``isAuthorParticipating`` flag of the public Daily Papers API).

Invariants:
- An author page shows the papers of one strict key (``paperwire.authors.names``); other
  strict names under its loose key are listed as ``variants``, never merged.
- A constant number of statements per page, whatever the number of papers.
- Anonymous pages share the page cache; a signed-in member's page is fresh and says whether
  they follow the author and what became of their own claim.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from paperwire.authors.names import strict_key
from paperwire.errors import BadInput, NotFound
from paperwire.services.api_objects import feed_item_json, iso, paper_json
from paperwire.store import author_claims as claims_store
from paperwire.store import authors as store
from paperwire.store.models import User
from paperwire.web.appcontext import AppContext
from paperwire.web.page_common import cached, page_args, upvoted

MAX_NAME = 255


def author_url(name: str) -> str:
    return "/authors/" + quote(" ".join(name.split()), safe="")


def _user_json(uid: int, username: str) -> dict[str, Any]:
    """A claimed author's member, in the public API's ``user`` shape (what we have of it)."""
    return {
        "_id": str(uid),
        "name": username,
        "fullname": username,
        "type": "user",
        "url": f"/users/{quote(username, safe='')}",
    }


def decorate_authors(paper: dict[str, Any], claimants: dict[str, tuple[int, str]]) -> None:
    """Set ``user`` on the authors of a paper object whose strict key a member claimed."""
    for author in paper.get("authors", []):
        found = claimants.get(author.get("_id") or "")
        author["user"] = _user_json(*found) if found else None


def author_context(
    ctx: AppContext,
    name: str,
    *,
    user: User | None = None,
    page: int | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    db = ctx.db
    name = " ".join((name or "").split())
    if len(name) > MAX_NAME:
        raise BadInput(f"an author's name has at most {MAX_NAME} characters")
    if not strict_key(name):
        raise NotFound(f"no author named {name[:80]!r}")
    page, limit = page_args(page, limit, ctx.settings.feed_page_size)

    def compute() -> dict[str, Any]:
        with db.session() as s:
            who = store.resolve(s, name)
            if who is None:
                raise NotFound(f"no paper lists an author named {name[:80]!r}")
            papers = store.author_papers(s, who.strict_key, page=page, limit=limit)
            coauthors = store.coauthors(s, who.strict_key)
            categories = store.categories(s, who.strict_key)
            feed = store.on_feed(s, who.strict_key)
            keys = {who.strict_key}
            for p in papers:
                keys.update(a for a in store.strict_keys_of(p.authors))
            claimants = claims_store.claimants(s, keys)
            participating = claims_store.participating(
                s, [p.id for p in papers] + [p.id for p, _ in feed]
            )
            followers = store.followers_count(s, who.strict_key)
        items = []
        for p in papers:
            item: dict[str, Any] = {
                "paper": paper_json(p),
                "numComments": p.num_comments or 0,
                "isAuthorParticipating": p.id in participating,
            }
            decorate_authors(item["paper"], claimants)
            items.append(item)
        on_feed = []
        for p, entry in feed:
            item = feed_item_json(p, entry, None)
            item["isAuthorParticipating"] = p.id in participating
            decorate_authors(item["paper"], claimants)
            on_feed.append(item)
        claimed = claimants.get(who.strict_key)
        return {
            "name": who.name,
            "strictKey": who.strict_key,
            "paperCount": who.papers,
            "spellings": who.spellings,
            "variants": [
                {
                    "name": v.name,
                    "strictKey": v.strict_key,
                    "papers": v.papers,
                    "compatible": v.compatible,
                    "url": author_url(v.name),
                }
                for v in who.variants
            ],
            "user": _user_json(*claimed) if claimed else None,
            "papers": items,
            "coauthors": [
                {"name": n, "strictKey": k, "papers": c, "url": author_url(n)}
                for n, k, c in coauthors
            ],
            "categories": [{"category": c, "papers": n} for c, n in categories],
            "onFeed": on_feed,
            "followers": followers,
            "page": page,
            "limit": limit,
            "hasMore": page * limit < who.papers,
        }

    data = cached(ctx, user, ("author", strict_key(name), page, limit), compute)
    out = dict(data)
    out["following"] = None
    out["myClaim"] = None
    if user is not None:
        with db.session() as s:
            out["following"] = store.is_following(s, user.id, data["strictKey"])
            mine = claims_store.active_claim(s, user.id, data["strictKey"])
            if mine is not None:
                out["myClaim"] = {
                    "id": mine.id,
                    "status": mine.status,
                    "createdAt": iso(mine.created_at),
                }
    out["upvoted"] = upvoted(ctx, user, data["papers"])
    out["url"] = author_url(data["name"])
    return out


def api_json(ctx: dict[str, Any]) -> dict[str, Any]:
    """The API's author object (see ``schemas.AuthorPageOut``)."""
    keys = (
        "name",
        "strictKey",
        "paperCount",
        "spellings",
        "variants",
        "user",
        "papers",
        "coauthors",
        "categories",
        "onFeed",
        "followers",
        "page",
        "limit",
        "hasMore",
        "following",
        "myClaim",
    )
    return {k: ctx[k] for k in keys}
