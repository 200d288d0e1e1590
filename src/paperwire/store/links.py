"""SQL of paper links (``PaperLink``): extracted at ingest, added by members, moderated.

Invariants:
- A URL is on a paper once; a link an admin removed stays as a ``removed`` row, so neither
  re-extraction nor the backfill brings it back, and a member cannot add it again.
- Whenever the set of a paper's visible link kinds may have changed, its ``modified_at`` is
  bumped in the same transaction (the search indexes follow ``modified_at``, and ``has:code``
  is a search constraint), except where the caller bumps it anyway (``bump=False``: the
  importer's upsert already did).
- Only ``visible`` links are shown, exported in the API and counted by ``has:``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.orm import Session

from paperwire.errors import NotFound, PaperwireError
from paperwire.records.links import Link, extract_links
from paperwire.store.base import table_of
from paperwire.store.models import Paper, PaperLink, User, utcnow

_CHUNK = 900
STATUSES = ("visible", "pending", "removed")


class LinkExists(PaperwireError):
    """The URL is already on the paper (or was removed from it by a moderator): 409."""

    status_code = 409
    code = "conflict"


def _chunks(ids: Sequence[str]) -> Iterable[list[str]]:
    ids = list(dict.fromkeys(ids))
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def touch(session: Session, ids: Iterable[str]) -> None:
    """Bump ``modified_at`` of these papers (their ``has:`` kinds changed)."""
    now = utcnow()
    for chunk in _chunks(list(ids)):
        session.execute(
            update(Paper)
            .where(Paper.id.in_(chunk))
            .values(modified_at=now)
            .execution_options(synchronize_session=False)
        )


# "Visible" for lookups by paper id (the page's links, has: kinds, the feed's has filter),
# written so that no index on ``status`` can serve it:
# SQLite (no statistics) otherwise picks ix_paper_links_status and walks every visible link
# of the library (5 ms at 15k links, growing with the library) instead of the few rows of
# the page's papers through the (paper_id, url) index (0.05 ms). Same rows either way.
_VISIBLE = func.coalesce(PaperLink.status, "") == "visible"


@lru_cache(maxsize=1)
def _visible_links_stmt() -> Select[Any]:
    """Built once (building the select cost more than running it): the table's columns, not
    the mapped attributes, since an ORM-enabled select takes the session's ORM compile path
    even when it names columns only; the ids are one expanding parameter."""
    t = table_of(PaperLink)
    return (
        select(t.c.id, t.c.paper_id, t.c.kind, t.c.url)
        .where(
            t.c.paper_id.in_(bindparam("ids", expanding=True)),
            func.coalesce(t.c.status, "") == "visible",  # as _VISIBLE
        )
        .order_by(t.c.id)
    )


def visible_links(session: Session | Connection, ids: Sequence[str]) -> dict[str, list[Any]]:
    """Visible links per paper id, oldest first (one statement per 900 ids), as read-only
    rows with ``id``, ``paper_id``, ``kind`` and ``url`` attributes.

    Plain column rows, not ``PaperLink`` objects: every search, feed page and paper page asks
    this, and the ORM's statement and identity-map work cost ~1.5 ms per call where the
    column select costs ~0.15 ms (1M-paper bench database; a tenth of a new search's CPU)."""
    out: dict[str, list[Any]] = defaultdict(list)
    for chunk in _chunks(ids):
        rows = session.execute(_visible_links_stmt(), {"ids": chunk})
        for link in rows:
            out[link.paper_id].append(link)
    return dict(out)


def visible_kinds(session: Session | Connection, ids: Sequence[str]) -> dict[str, set[str]]:
    """The kinds of each paper's visible links (what ``has:`` matches)."""
    out: dict[str, set[str]] = defaultdict(set)
    for chunk in _chunks(ids):
        for pid, kind in session.execute(
            select(PaperLink.paper_id, PaperLink.kind)
            .distinct()
            .where(PaperLink.paper_id.in_(chunk), _VISIBLE)
        ):
            out[pid].add(kind)
    return dict(out)


def has_kind(paper_id_column: Any, kind: str) -> ColumnElement[bool]:
    """SQL condition: the paper has a visible link of this kind (feed filters)."""
    # _VISIBLE: a correlated lookup by paper id (on SQLite the status index made the feed's
    # "with code" filter walk every visible link for every paper: 1.4 s for a page at 83k
    # papers and 15k links, 0.4 ms through the paper_id index).
    return exists().where(
        and_(PaperLink.paper_id == paper_id_column, PaperLink.kind == kind, _VISIBLE)
    )


def _kinds_of(session: Session, ids: Sequence[str]) -> dict[str, frozenset[str]]:
    return {pid: frozenset(k) for pid, k in visible_kinds(session, ids).items()}


def put_links(
    session: Session,
    paper_links: dict[str, list[Link]],
    source: str,
    *,
    replace: bool = False,
    bump: bool = True,
) -> list[str]:
    """Add these links (``source``: extracted or demo) to their papers; URLs already on a
    paper are left as they are (whatever their status). ``replace``: also delete this
    source's visible links that are no longer given (re-extraction after the abstract
    changed). Returns the ids whose visible kinds changed (bumped unless ``bump=False``)."""
    ids = list(paper_links)
    if not ids:
        return []
    before = _kinds_of(session, ids)
    existing: dict[str, dict[str, PaperLink | None]] = defaultdict(dict)
    for chunk in _chunks(ids):
        for link in session.scalars(select(PaperLink).where(PaperLink.paper_id.in_(chunk))):
            existing[link.paper_id][link.url] = link
    now = utcnow()
    for pid, links in paper_links.items():
        have = existing.get(pid, {})
        wanted = {link.url for link in links}
        for found in links:
            if found.url not in have:
                session.add(
                    PaperLink(
                        paper_id=pid,
                        url=found.url,
                        kind=found.kind,
                        source=source,
                        status="visible",
                        created_at=now,
                    )
                )
                have[found.url] = None  # a batch may repeat a url
        if replace:
            for url, row in list(have.items()):
                if (
                    row is not None
                    and row.source == source
                    and row.status == "visible"
                    and url not in wanted
                ):
                    session.delete(row)
    session.flush()
    after = _kinds_of(session, ids)
    changed = [pid for pid in ids if before.get(pid, frozenset()) != after.get(pid, frozenset())]
    if bump and changed:
        touch(session, changed)
    return changed


def sync_extracted(session: Session, ids: Sequence[str], *, bump: bool = True) -> list[str]:
    """Re-extract the links of these papers from their stored abstract and comment."""
    found: dict[str, list[Link]] = {}
    for chunk in _chunks(ids):
        for pid, abstract, comments in session.execute(
            select(Paper.id, Paper.abstract, Paper.comments).where(Paper.id.in_(chunk))
        ):
            found[pid] = extract_links(
                abstract if isinstance(abstract, str) else "",
                comments if isinstance(comments, str) else "",
            )
    # Papers without any link and without stored extracted rows need no work at all.
    with_rows = set()
    for chunk in _chunks([pid for pid, links in found.items() if not links]):
        with_rows |= set(
            session.scalars(
                select(PaperLink.paper_id)
                .distinct()
                .where(PaperLink.paper_id.in_(chunk), PaperLink.source == "extracted")
            )
        )
    work = {pid: links for pid, links in found.items() if links or pid in with_rows}
    return put_links(session, work, "extracted", replace=True, bump=bump)


@dataclass(frozen=True)
class Added:
    link: PaperLink
    visible: bool


def member_links_since(session: Session, user_id: int, since: datetime) -> int:
    """Links ``user_id`` added after ``since`` (naive UTC): the daily limit's count."""
    return (
        session.scalar(
            select(func.count())
            .select_from(PaperLink)
            .where(PaperLink.added_by == user_id, PaperLink.created_at > since)
        )
        or 0
    )


def add_member_link(
    session: Session, paper_id: str, link: Link, user_id: int, *, review: bool = False
) -> Added:
    """A member's link on a visible paper (``NotFound`` otherwise). ``LinkExists`` (409) when the URL
    is already on the paper (or was removed by an admin). ``review``: it waits as
    ``pending`` until an admin shows it."""
    paper = session.get(Paper, paper_id)
    if paper is None or paper.hidden:
        raise NotFound(f"no paper with id {paper_id}")
    found = session.scalar(
        select(PaperLink).where(PaperLink.paper_id == paper_id, PaperLink.url == link.url)
    )
    if found is not None:
        if found.status == "removed":
            raise LinkExists("that link was removed from this paper by a moderator")
        raise LinkExists("that link is already on this paper")
    row = PaperLink(
        paper_id=paper_id,
        url=link.url,
        kind=link.kind,
        source="member",
        added_by=user_id,
        status="pending" if review else "visible",
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    if not review:
        touch(session, [paper_id])
    return Added(row, not review)


def set_status(session: Session, link_id: int, status: str) -> PaperLink:
    """Moderation: show (``visible``) or hide (``removed``) a link. ``NotFound`` for an
    unknown id."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    row = session.get(PaperLink, link_id)
    if row is None:
        raise NotFound(f"no link with id {link_id}")
    if row.status != status:
        row.status = status
        session.flush()
        touch(session, [row.paper_id])
    return row


def delete_link(session: Session, link_id: int) -> str:
    """Delete a link for good (an extracted one may come back with the next re-extraction;
    hide it to keep it away). Returns its paper id."""
    row = session.get(PaperLink, link_id)
    if row is None:
        raise NotFound(f"no link with id {link_id}")
    pid = row.paper_id
    session.execute(delete(PaperLink).where(PaperLink.id == link_id))
    touch(session, [pid])
    return pid


@dataclass(frozen=True)
class LinkView:
    link: PaperLink
    paper_title: str
    username: str | None


def moderation_list(
    session: Session,
    *,
    status: str | None = None,
    source: str | None = "member",
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[LinkView], int]:
    """Links for the moderation page, newest first, with their paper's title and who added
    them; and how many there are in all."""
    conds = []
    if status:
        conds.append(PaperLink.status == status)
    if source:
        conds.append(PaperLink.source == source)
    total = session.scalar(select(func.count()).select_from(PaperLink).where(*conds)) or 0
    rows = session.execute(
        select(PaperLink, Paper.title, User.username)
        .join(Paper, Paper.id == PaperLink.paper_id)
        .outerjoin(User, User.id == PaperLink.added_by)
        .where(*conds)
        .order_by(PaperLink.created_at.desc(), PaperLink.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return [LinkView(link, title or "", name) for link, title, name in rows], int(total)


def links_of_user(session: Session, user_id: int) -> list[PaperLink]:
    """The links a member added (account export)."""
    return list(
        session.scalars(
            select(PaperLink).where(PaperLink.added_by == user_id).order_by(PaperLink.id)
        )
    )


def paper_ids_after(session: Session, last: str, limit: int) -> list[str]:
    """Up to ``limit`` paper ids after ``last`` in id order (the backfill's keyset pages)."""
    return list(
        session.scalars(select(Paper.id).where(Paper.id > last).order_by(Paper.id).limit(limit))
    )
