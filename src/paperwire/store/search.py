"""SQL the search area needs: the change feed of papers for the indexes, and light rows.

Invariants:
- Reads only; indexes are derived from these rows and never written back.
- ``modified_at`` is the change feed (see ``store.models.Paper``): a paper whose indexed
  content or visibility changed has a newer ``modified_at``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.orm import Session

from paperwire import stored
from paperwire.store.links import visible_kinds
from paperwire.store.models import Paper

_CHUNK = 900

# The change-feed reads take an ORM session or a plain Core connection (the lexical index
# reads its delta on every search through a connection: no ORM work needed).
Reader = Session | Connection

_COLUMNS = (
    Paper.id,
    Paper.title,
    Paper.abstract,
    Paper.authors,
    Paper.categories,
    Paper.primary_category,
    Paper.published_at,
    Paper.hidden,
    Paper.modified_at,
)


@dataclass(frozen=True)
class IndexRow:
    """What the lexical index needs of a paper."""

    id: str
    title: str
    abstract: str
    authors: list[Any]
    categories: list[str]
    published_at: dt.datetime | None
    hidden: bool
    modified_at: dt.datetime
    links: tuple[str, ...] = ()  # kinds of the paper's visible links (``has:``), sorted


def _with_links(session: Reader, rows: list[IndexRow]) -> list[IndexRow]:
    # One statement per batch: a paper's link kinds are indexed with it (has:code).
    kinds = visible_kinds(session, [r.id for r in rows])
    return [
        dataclasses.replace(r, links=tuple(sorted(kinds[r.id]))) if r.id in kinds else r
        for r in rows
    ]


def _row(r: Any) -> IndexRow:
    # stored.strings: a row stored before the record schema may have non-strings there.
    cats = stored.strings(r.categories)
    if (
        isinstance(r.primary_category, str)
        and r.primary_category
        and r.primary_category not in cats
    ):
        cats.insert(0, r.primary_category)
    return IndexRow(
        r.id,
        r.title or "",
        r.abstract or "",
        stored.authors(r.authors),
        cats,
        r.published_at,
        bool(r.hidden),
        r.modified_at,
    )


def iter_index_rows(session: Session, batch_size: int = 2000) -> Iterator[list[IndexRow]]:
    """Every visible paper, in id order, in batches (keyset pagination: constant memory)."""
    last = ""
    while True:
        rows = session.execute(
            select(*_COLUMNS)
            .where(Paper.id > last, Paper.hidden.is_(False))
            .order_by(Paper.id)
            .limit(batch_size)
        ).all()
        if not rows:
            return
        yield _with_links(session, [_row(r) for r in rows])
        last = rows[-1].id


def modified_since(
    session: Reader, since: dt.datetime | None, limit: int | None = None
) -> list[tuple[str, dt.datetime]]:
    """(id, modified_at) of papers modified after ``since`` (hidden ones included: the index
    must drop them), oldest change first."""
    if since is not None and limit is None:
        # The per-search call (lexical delta): a statement built once.
        return [(r[0], r[1]) for r in session.execute(_MODIFIED_SINCE, {"since": since})]
    query = select(Paper.id, Paper.modified_at).order_by(Paper.modified_at, Paper.id)
    if since is not None:
        query = query.where(Paper.modified_at > since)
    if limit is not None:
        query = query.limit(limit)
    return [(r[0], r[1]) for r in session.execute(query)]


_MODIFIED_SINCE = (
    select(Paper.id, Paper.modified_at)
    .where(Paper.modified_at > bindparam("since"))
    .order_by(Paper.modified_at, Paper.id)
)


def count_modified_between(session: Reader, after: dt.datetime | None, upto: dt.datetime) -> int:
    """Papers with ``after < modified_at <= upto`` (an index range count)."""
    query = select(func.count()).select_from(Paper).where(Paper.modified_at <= upto)
    if after is not None:
        query = query.where(Paper.modified_at > after)
    return session.scalar(query) or 0


def index_rows(session: Reader, ids: Sequence[str]) -> list[IndexRow]:
    out: list[IndexRow] = []
    ids = list(dict.fromkeys(ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        out += [_row(r) for r in session.execute(select(*_COLUMNS).where(Paper.id.in_(chunk)))]
    return _with_links(session, out)


def sample_texts(session: Session, n: int) -> list[tuple[str, str]]:
    """(title, abstract) of up to ``n`` visible papers drawn at random (corpus statistics)."""
    rows = session.execute(
        select(Paper.title, Paper.abstract)
        .where(Paper.hidden.is_(False))
        .order_by(func.random())
        .limit(n)
    )
    return [(t or "", a or "") for t, a in rows]


def visible_count(session: Session) -> int:
    return (
        session.scalar(select(func.count()).select_from(Paper).where(Paper.hidden.is_(False))) or 0
    )


def max_modified_at(session: Session) -> dt.datetime | None:
    return session.scalar(select(func.max(Paper.modified_at)))


def newest_ids(
    session: Session, *, limit: int, offset: int = 0, ids: Sequence[str] | None = None
) -> list[str]:
    """Visible paper ids, newest first (listing when a query has filters but no words)."""
    query = (
        select(Paper.id)
        .where(Paper.hidden.is_(False))
        .order_by(Paper.published_at.desc().nulls_last(), Paper.id.desc())
    )
    if ids is not None:
        query = query.where(Paper.id.in_(list(ids)))
    return list(session.scalars(query.offset(offset).limit(limit)))


def sort_keys(session: Session, ids: Sequence[str]) -> dict[str, tuple[int, dt.datetime | None]]:
    """(upvotes, published_at) per id, for sorting a candidate pool."""
    out: dict[str, tuple[int, dt.datetime | None]] = {}
    ids = list(dict.fromkeys(ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for pid, up, pub in session.execute(
            select(Paper.id, Paper.upvotes, Paper.published_at).where(Paper.id.in_(chunk))
        ):
            out[pid] = (up or 0, pub)
    return out


def upvoted(session: Session) -> list[tuple[str, int, dt.datetime | None]]:
    """(id, upvotes, published_at) of every visible paper with at least one upvote, most
    upvoted first, then newest first, then by id (the "upvotes" sort of search; papers
    without upvotes follow in the newest-first order of the result set)."""
    query = (
        select(Paper.id, Paper.upvotes, Paper.published_at)
        .where(Paper.hidden.is_(False), Paper.upvotes > 0)
        .order_by(Paper.upvotes.desc(), Paper.published_at.desc().nulls_last(), Paper.id.desc())
    )
    return [(pid, up, pub) for pid, up, pub in session.execute(query)]


def page_rows(session: Reader, ids: Sequence[str]) -> dict[str, Any]:
    """Every column of the given papers by id, one query per chunk, as plain rows (attribute
    access by column name, like ``Paper``; no ORM objects are built: a result page needs
    only to read them). Missing ids are absent."""
    out: dict[str, Any] = {}
    ids = list(dict.fromkeys(ids))
    for start in range(0, len(ids), _CHUNK):
        for row in session.execute(_PAGE_ROWS, {"ids": ids[start : start + _CHUNK]}):
            out[row.id] = row
    return out


# Built once: a result page runs this on every search (building the statement per call cost
# about as much as running it).
_PAGE_ROWS = select(Paper.__table__).where(
    Paper.__table__.c.id.in_(bindparam("ids", expanding=True))
)
