"""Links to code and resources as actions: a member adds one, an admin moderates, the backfill
extracts them for papers stored before links existed. The web pages, the API and the CLI call
these; SQL stays in ``store/links.py``.

Invariants:
- **Member links show at once** (like comments): a signed-in member's link is visible on the
  paper page, the feed badges, the API and ``has:`` as soon as it is added, and admins remove
  what does not belong (``PAPERWIRE_MEMBER_LINKS_REVIEW=true`` makes them wait as
  ``pending`` until an admin shows them). Adding is rate-limited like every write (the
  caller's ``rate_limit``), and each member may add at most
  ``PAPERWIRE_MEMBER_LINKS_PER_DAY`` links a day, so a spammer cannot flood the papers between two moderator visits.
- **Only admins moderate** (show, hide, delete); ``Forbidden`` for anybody else.
- The backfill is idempotent and resumable: rerun, it adds nothing it added before and never
  brings back a link an admin removed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from paperwire.config import Settings
from paperwire.errors import BadInput, NotFound, PaperwireError
from paperwire.records.links import member_link
from paperwire.store import links as store
from paperwire.store.db import Database
from paperwire.store.models import User, utcnow


class NotAllowed(PaperwireError):
    """Only administrators moderate links: 403."""

    status_code = 403
    code = "forbidden"


class DailyLimit(PaperwireError):
    status_code = 429
    code = "rate_limited"


@dataclass(frozen=True)
class AddedLink:
    id: int
    paper_id: str
    url: str
    kind: str
    status: str


def add_link(
    settings: Settings, db: Database, user: User, paper_id: str, url: str, kind: str | None
) -> AddedLink:
    """A member's link (see the module invariants). ``BadInput`` names what is wrong with the
    address or kind; ``NotFound`` for a missing or hidden paper; ``LinkExists`` (409)."""
    if user is None:
        raise NotAllowed("sign in to add a link")
    try:
        link = member_link(url, kind or None)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    with db.session() as session:
        since = utcnow() - dt.timedelta(days=1)
        today = store.member_links_since(session, user.id, since)
        limit = settings.member_links_per_day
        if today >= limit and not user.is_admin:
            raise DailyLimit(
                f"you added {today} links in the last 24 hours; the limit is {limit} a day"
            )
        added = store.add_member_link(
            session,
            paper_id,
            link,
            user.id,
            review=settings.member_links_review and not user.is_admin,
        )
        row = added.link
        return AddedLink(row.id, row.paper_id, row.url, row.kind, row.status)


def moderate(db: Database, user: User, link_id: int, action: str) -> str:
    """``show``, ``hide`` or ``delete`` a link (admins only). Returns the link's paper id."""
    if user is None or not user.is_admin:
        raise NotAllowed("only administrators moderate links")
    with db.session() as session:
        if action == "delete":
            return store.delete_link(session, link_id)
        if action not in ("show", "hide"):
            raise BadInput(f"action must be show, hide or delete, got {action[:20]!r}")
        row = store.set_status(session, link_id, "visible" if action == "show" else "removed")
        return row.paper_id


@dataclass
class BackfillResult:
    papers: int = 0
    changed: int = 0


def backfill(
    db: Database, *, batch_size: int = 2000, progress: Callable[[int], None] | None = None
) -> BackfillResult:
    """Extract the links of every stored paper (and the demo seed's ``code_url``s for the
    demo papers present), one transaction per batch; ``progress(n)`` after each batch."""
    from paperwire.ingest.demo import demo_links

    demo = demo_links()
    result = BackfillResult()
    last = ""
    while True:
        with db.session() as session:
            ids = store.paper_ids_after(session, last, batch_size)
            if not ids:
                return result
            last = ids[-1]
            changed = set(store.sync_extracted(session, ids))
            seeded = {pid: demo[pid] for pid in ids if pid in demo}
            if seeded:
                changed |= set(store.put_links(session, seeded, "demo"))
        result.papers += len(ids)
        result.changed += len(changed)
        if progress is not None:
            progress(len(ids))


def paper_count(db: Database) -> int:
    from paperwire.store.papers import count_papers

    with db.session() as session:
        return count_papers(session)


__all__ = [
    "add_link",
    "moderate",
    "backfill",
    "NotAllowed",
    "DailyLimit",
    "NotFound",
    "AddedLink",
    "BackfillResult",
    "paper_count",
]
