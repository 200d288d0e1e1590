"""The declarative base every table module shares, its naming convention, and ``utcnow``.

Its own module so that the table modules (``models``, ``mail_models``, ``vector_models``,
``author_models``, ...) import it without importing each other.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import JSON, MetaData, Table
from sqlalchemy.orm import DeclarativeBase

# Named constraints so that SQLite batch migrations and PostgreSQL agree on names.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Naive UTC timestamp: every DateTime column in the schema stores UTC without tzinfo."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


def table_of(model: type[Base]) -> Table:
    """The Core ``Table`` of a model (for executemany UPDATEs; the ORM types it as a
    ``FromClause``)."""
    return cast(Table, model.__table__)
