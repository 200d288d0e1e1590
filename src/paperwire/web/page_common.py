"""What every page context shares: the paging arguments, the anonymous page cache, the
member's upvote marks, and the checks of ids and free text before any query.

Invariants:
- Anonymous requests share a per-worker TTL cache (``AppContext.cache``); signed-in users
  always get fresh data plus their own upvote marks (one extra statement).
- A paper id or free text that could not be valid is refused here, so no NUL byte or
  overlong string ever reaches the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from paperwire.errors import BadInput, NotFound
from paperwire.store import listing
from paperwire.store.models import User
from paperwire.web.appcontext import AppContext

MAX_LIMIT = 100

T = TypeVar("T")


def cached(ctx: AppContext, user: User | None, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()``, shared through the page cache for anonymous visitors only."""
    if user is not None:
        return compute()
    result: T = ctx.cache.get_or_compute(key, compute)
    return result


def page_args(page: int | None, limit: int | None, default_limit: int) -> tuple[int, int]:
    """``(page, limit)`` with the defaults applied, or BadInput naming the bad one."""
    page = 1 if page is None else page
    limit = default_limit if limit is None else limit
    if page < 1:
        raise BadInput(f"p (page) must be 1 or more, got {page}")
    if not 1 <= limit <= MAX_LIMIT:
        raise BadInput(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    return page, limit


def upvoted(ctx: AppContext, user: User | None, items: Iterable[dict[str, Any]]) -> set[str]:
    """The ids of the papers among ``items`` that ``user`` upvoted (none for visitors)."""
    items = list(items)
    if user is None or not items:
        return set()
    with ctx.db.session() as s:
        return listing.user_upvoted(s, user.id, [i["paper"]["id"] for i in items])


_PAPER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/\-]{0,63}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_paper_id(paper_id: str | None) -> str:
    """A syntactically possible paper id, or NotFound (before any query: no NUL bytes or
    overlong strings ever reach the database)."""
    paper_id = (paper_id or "").strip().strip("/")
    if not _PAPER_ID.match(paper_id):
        raise NotFound(f"no paper with id {paper_id[:80]!r}")
    return paper_id


def check_text(value: str | None, name: str, max_len: int = 1000) -> str:
    """Free text from a request: control characters (NUL...) are refused with BadInput."""
    value = value or ""
    if _CONTROL.search(value):
        raise BadInput(f"{name} contains control characters")
    if len(value) > max_len:
        raise BadInput(f"{name} is too long (at most {max_len} characters)")
    return value


def check_has(has: str | None) -> str | None:
    """The ``has`` filter ("with code"): a link kind, or None."""
    from paperwire.records.links import KINDS

    if not has:
        return None
    if has not in KINDS:
        raise BadInput(f"has must be one of {', '.join(KINDS)}, got {has[:40]!r}")
    return has
