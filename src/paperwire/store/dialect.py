"""The one place where store code switches on the SQL dialect for ``INSERT ... ON CONFLICT``.

PostgreSQL and SQLite both support ``ON CONFLICT (cols) DO NOTHING / DO UPDATE``, but
SQLAlchemy builds them with each dialect's own ``insert`` construct. ``upsert`` returns the
statement (not executed), so callers add ``.values(...)`` / ``.returning(...)`` or execute it
with a list of rows (executemany with one cached statement).

Invariants: ``upsert(..., update=None)`` never changes an existing row (DO NOTHING);
``update=[cols]`` sets exactly those columns from the proposed row (``excluded.col``);
``update={col: value}`` sets those columns to the given values. Rows skipped by DO NOTHING
are absent from RETURNING, which is how callers tell "this call inserted" reliably (the
drivers' rowcount is not).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

# Both dialects' INSERT constructs have the same ON CONFLICT methods and ``excluded``.
Insert = postgresql.Insert | sqlite.Insert


def insert(session: Session, table: Any) -> Insert:
    """The dialect's INSERT construct for ``table`` (a model class or Table)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def upsert(
    session: Session,
    table: Any,
    index_elements: Sequence[Any] | None = None,
    *,
    update: Sequence[str] | Mapping[str, Any] | None = None,
) -> Insert:
    """``INSERT INTO table ... ON CONFLICT (index_elements)`` DO NOTHING (``update=None``) or
    DO UPDATE (column names: take the proposed row's values; a mapping: those values).
    DO UPDATE needs ``index_elements``; DO NOTHING without them covers any unique conflict."""
    stmt = insert(session, table)
    if update is None:
        return stmt.on_conflict_do_nothing(index_elements=index_elements)
    if index_elements is None:
        raise ValueError("upsert with update= needs index_elements")
    if isinstance(update, Mapping):
        set_ = dict(update)
    else:
        set_ = {c: getattr(stmt.excluded, c) for c in update}
    return stmt.on_conflict_do_update(index_elements=index_elements, set_=set_)
