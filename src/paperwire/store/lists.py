"""Named paper lists, their papers, who follows them, and imports waiting for arXiv.

Invariants:
- A list belongs to one member; the ``*_owned`` functions take the owner's ``user_id`` and
  raise NotFound for a list of anyone else, so a member can never change another's list.
- ``public_list`` returns a list only when it is public: a private list is NotFound for
  everyone but its owner (pages, feeds and JSON all go through it).
- List names are unique per member (case-insensitive): ``AlreadyExists`` (409) names it.
- Adding a paper twice keeps one row (first ``added_at``); removing what is not there changes
  nothing. Following is only possible for a public list that is not one's own; making a list
  private again drops its followers (they could not see it any more).
- ``pending_imports`` holds at most one row per (list, arXiv id); completing one adds the
  paper to the list and deletes the row, in the same transaction.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from paperwire.errors import NotFound
from paperwire.store.db import flush_unique, rowcount
from paperwire.store.dialect import upsert
from paperwire.store.library_models import ListFollow, ListItem, PaperList, PendingImport
from paperwire.store.models import Paper, User, utcnow
from paperwire.store.users import AlreadyExists

# --- lists ---------------------------------------------------------------------------------


def _name_taken(session: Session, user_id: int, name: str, exclude: int | None = None) -> bool:
    stmt = select(PaperList.id).where(
        PaperList.user_id == user_id, func.lower(PaperList.name) == name.lower()
    )
    if exclude is not None:
        stmt = stmt.where(PaperList.id != exclude)
    return session.scalar(stmt) is not None


def create_list(session: Session, user_id: int, name: str, *, is_public: bool = False) -> PaperList:
    if _name_taken(session, user_id, name):
        raise AlreadyExists(f"you have a list named {name!r} already")
    now = utcnow()
    row = PaperList(user_id=user_id, name=name, is_public=is_public, created_at=now, updated_at=now)
    # A concurrent creation of the same name hits the unique constraint: the same 409.
    if not flush_unique(session, row):
        raise AlreadyExists(f"you have a list named {name!r} already")
    return row


def get_owned(session: Session, user_id: int, list_id: int) -> PaperList:
    row = session.get(PaperList, list_id)
    if row is None or row.user_id != user_id:
        raise NotFound(f"no list with id {list_id}")
    return row


def get_visible(session: Session, list_id: int, viewer_id: int | None) -> PaperList:
    """The list when ``viewer_id`` owns it or it is public; else NotFound (never 403: a
    private list's existence is private too)."""
    row = session.get(PaperList, list_id)
    if row is None or not (row.is_public or (viewer_id is not None and row.user_id == viewer_id)):
        raise NotFound(f"no list with id {list_id}")
    return row


def public_list(session: Session, list_id: int) -> PaperList:
    return get_visible(session, list_id, None)


def rename_owned(session: Session, user_id: int, list_id: int, name: str) -> PaperList:
    row = get_owned(session, user_id, list_id)
    if _name_taken(session, user_id, name, exclude=list_id):
        raise AlreadyExists(f"you have a list named {name!r} already")
    row.name = name
    row.updated_at = utcnow()
    if not flush_unique(session):
        raise AlreadyExists(f"you have a list named {name!r} already")
    return row


def set_public_owned(session: Session, user_id: int, list_id: int, is_public: bool) -> PaperList:
    row = get_owned(session, user_id, list_id)
    row.is_public = is_public
    row.updated_at = utcnow()
    if not is_public:
        session.execute(delete(ListFollow).where(ListFollow.list_id == list_id))
    session.flush()
    return row


def delete_owned(session: Session, user_id: int, list_id: int) -> None:
    get_owned(session, user_id, list_id)
    for model in (ListItem, ListFollow, PendingImport):
        session.execute(delete(model).where(model.list_id == list_id))
    session.execute(delete(PaperList).where(PaperList.id == list_id))


def lists_of(session: Session, user_id: int) -> list[tuple[PaperList, int]]:
    """The member's lists with their paper counts, by name."""
    count = (
        select(func.count())
        .select_from(ListItem)
        .where(ListItem.list_id == PaperList.id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(PaperList, count)
        .where(PaperList.user_id == user_id)
        .order_by(func.lower(PaperList.name), PaperList.id)
    )
    return [(row, n) for row, n in rows]


def owner_name(session: Session, row: PaperList) -> str:
    return session.scalar(select(User.username).where(User.id == row.user_id)) or ""


def touch(session: Session, list_id: int) -> None:
    session.execute(update(PaperList).where(PaperList.id == list_id).values(updated_at=utcnow()))


# --- papers in lists -----------------------------------------------------------------------


def add_item(session: Session, list_id: int, paper_id: str, at: dt.datetime | None = None) -> bool:
    """Add a paper to a list (the caller checked ownership); True when it was new."""
    stmt = (
        upsert(session, ListItem, ["list_id", "paper_id"])
        .values(list_id=list_id, paper_id=paper_id, added_at=at or utcnow())
        .returning(ListItem.paper_id)
    )
    added = session.execute(stmt).first() is not None
    if added:
        touch(session, list_id)
    return added


def remove_item(session: Session, list_id: int, paper_id: str) -> bool:
    result = session.execute(
        delete(ListItem).where(ListItem.list_id == list_id, ListItem.paper_id == paper_id)
    )
    return (rowcount(result) or 0) == 1


def items(
    session: Session,
    list_id: int,
    *,
    offset: int = 0,
    limit: int | None = None,
    include_hidden: bool = False,
) -> list[tuple[Paper, dt.datetime]]:
    """A list's papers, most recently added first (ties by paper id)."""
    stmt = (
        select(Paper, ListItem.added_at)
        .join(ListItem, ListItem.paper_id == Paper.id)
        .where(ListItem.list_id == list_id)
        .order_by(ListItem.added_at.desc(), Paper.id)
        .offset(offset)
    )
    if not include_hidden:
        stmt = stmt.where(Paper.hidden.is_(False))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [(paper, at) for paper, at in session.execute(stmt)]


def count_items(session: Session, list_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(ListItem)
            .join(Paper, Paper.id == ListItem.paper_id)
            .where(ListItem.list_id == list_id, Paper.hidden.is_(False))
        )
        or 0
    )


def lists_containing(session: Session, user_id: int, paper_id: str) -> set[int]:
    """Ids of the member's lists that hold the paper (the Save menu ticks them)."""
    return set(
        session.scalars(
            select(ListItem.list_id)
            .join(PaperList, PaperList.id == ListItem.list_id)
            .where(PaperList.user_id == user_id, ListItem.paper_id == paper_id)
        )
    )


# --- follows -------------------------------------------------------------------------------


def follow(session: Session, user_id: int, list_id: int) -> bool:
    row = public_list(session, list_id)
    if row.user_id == user_id:
        return False
    stmt = (
        upsert(session, ListFollow, ["user_id", "list_id"])
        .values(user_id=user_id, list_id=list_id, created_at=utcnow())
        .returning(ListFollow.list_id)
    )
    return session.execute(stmt).first() is not None


def unfollow(session: Session, user_id: int, list_id: int) -> bool:
    result = session.execute(
        delete(ListFollow).where(ListFollow.user_id == user_id, ListFollow.list_id == list_id)
    )
    return (rowcount(result) or 0) == 1


def is_following(session: Session, user_id: int | None, list_id: int) -> bool:
    if user_id is None:
        return False
    return (
        session.scalar(
            select(ListFollow.list_id).where(
                ListFollow.user_id == user_id, ListFollow.list_id == list_id
            )
        )
        is not None
    )


def followed_lists(session: Session, user_id: int) -> list[tuple[PaperList, str]]:
    """Public lists the member follows (with their owners' names), by name."""
    rows = session.execute(
        select(PaperList, User.username)
        .join(ListFollow, ListFollow.list_id == PaperList.id)
        .join(User, User.id == PaperList.user_id)
        .where(ListFollow.user_id == user_id, PaperList.is_public.is_(True))
        .order_by(func.lower(PaperList.name), PaperList.id)
    )
    return [(row, name) for row, name in rows]


def count_followers(session: Session, list_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(ListFollow).where(ListFollow.list_id == list_id)
        )
        or 0
    )


# --- imports waiting for arXiv -------------------------------------------------------------


def queue_import(session: Session, list_id: int, arxiv_id: str) -> bool:
    """Remember an arXiv id to add once arXiv answers; True when newly queued."""
    stmt = (
        upsert(session, PendingImport, ["list_id", "arxiv_id"])
        .values(
            list_id=list_id, arxiv_id=arxiv_id, status="pending", attempts=0, created_at=utcnow()
        )
        .returning(PendingImport.id)
    )
    return session.execute(stmt).first() is not None


def pending_for_list(session: Session, list_id: int) -> list[PendingImport]:
    return list(
        session.scalars(
            select(PendingImport)
            .where(PendingImport.list_id == list_id)
            .order_by(PendingImport.created_at, PendingImport.id)
        )
    )


def pending_ids(session: Session, *, limit: int = 200) -> list[str]:
    """Distinct arXiv ids still waiting (status ``pending``), oldest first."""
    rows = session.execute(
        select(PendingImport.arxiv_id, func.min(PendingImport.id))
        .where(PendingImport.status == "pending")
        .group_by(PendingImport.arxiv_id)
        .order_by(func.min(PendingImport.id))
        .limit(limit)
    )
    return [arxiv_id for arxiv_id, _ in rows]


def complete_import(session: Session, arxiv_id: str, paper_id: str) -> int:
    """Add the now-known paper to every list waiting for it; returns how many lists."""
    rows = list(session.scalars(select(PendingImport).where(PendingImport.arxiv_id == arxiv_id)))
    for row in rows:
        add_item(session, row.list_id, paper_id)
        session.delete(row)
    session.flush()
    return len(rows)


def fail_import(session: Session, arxiv_id: str, error: str, *, final: bool) -> None:
    """Record a failed attempt; ``final`` (arXiv said: no such paper) stops retrying."""
    values = {"attempts": PendingImport.attempts + 1, "error": error[:500], "tried_at": utcnow()}
    if final:
        values["status"] = "failed"
    session.execute(
        update(PendingImport)
        .where(PendingImport.arxiv_id == arxiv_id, PendingImport.status == "pending")
        .values(**values)
    )


def dismiss_import(session: Session, list_id: int, import_id: int) -> None:
    session.execute(
        delete(PendingImport).where(PendingImport.id == import_id, PendingImport.list_id == list_id)
    )
