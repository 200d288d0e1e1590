"""How ``store.papers`` writes rows in bulk: one generated row function and the SQL per
dialect (``row_builder``), PostgreSQL COPY text encoding and decoding, and the COPY + staged
UPDATE writer. Split from ``store.papers`` so that module holds the upsert's decisions and the
reads, and this one the encoding those decisions are written with.

Invariants: a row made by ``RowBuilder.row`` stores the values the ORM would store for the
same record (JSON text may differ in whitespace/escaping, which every reader decodes alike);
``incoming_record`` inverts it for the metadata columns; ``copy_line`` and ``copy_fields``
are inverses for the values COPY text can hold.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from typing import Any, NamedTuple

import orjson
from sqlalchemy import JSON, Column, DateTime, Integer, String
from sqlalchemy.engine import Connection

from paperwire.records import METADATA_FIELDS, PaperRecord
from paperwire.store.base import table_of
from paperwire.store.models import Paper


def incoming_record(
    builder: RowBuilder, row: tuple[Any, ...] | bytes, imported_upvotes: int | None
) -> PaperRecord:
    """The record a prepared row was made from (the inverse of ``builder.row`` for the
    metadata), so rows can travel from the parser processes without their records."""
    if builder.sqlite:
        raw = dict(zip(builder.names, row))
    else:
        assert isinstance(row, bytes)
        raw = dict(zip(builder.names, copy_fields(row)))
    values = {}
    for name in METADATA_FIELDS:
        value = raw[name]
        if value is not None:
            if name in _JSON_COLUMNS:
                value = orjson.loads(value)
            elif name in _DATETIME_COLUMNS:
                value = dt.datetime.fromisoformat(value)
            elif name in _INTEGER_COLUMNS and not builder.sqlite:
                value = int(value)
        values[name] = value
    return PaperRecord(imported_upvotes=imported_upvotes, **values)


_COPY_ESCAPE = re.compile(r"\\(.)")
_COPY_UNESCAPE = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\"}


def copy_fields(line: bytes) -> list[str | None]:
    """One COPY text line (see ``copy_line``) back into its values (None for ``\\N``)."""
    return [
        None
        if field == "\\N"
        else _COPY_ESCAPE.sub(lambda m: _COPY_UNESCAPE.get(m.group(1), m.group(1)), field)
        for field in line.decode("utf-8").rstrip("\n").split("\t")
    ]


# Rows whose metadata changed are staged here (COPY) and applied with one UPDATE ... FROM.
# Temporary (per connection, never logged) and emptied at every commit.
_STAGE = "pw_papers_stage"


def pg_write(
    conn: Connection,
    builder: RowBuilder,
    inserts: list[bytes],
    updates: list[bytes],
    now: dt.datetime,
) -> None:
    """PostgreSQL: new rows by COPY, changed metadata by COPY into a staging table and one
    UPDATE ... FROM, all in the caller's transaction (so a batch and its resume point still
    commit together). COPY costs the server and this process far less per row than
    executemany's one INSERT per row; the rows arrive already encoded (``copy_line``)."""
    if not inserts and not updates:
        return
    raw: Any = conn.connection.dbapi_connection  # psycopg 3 (COPY)
    with raw.cursor() as cur:
        if inserts:
            with cur.copy(builder.copy_sql) as copy:
                copy.write(b"".join(inserts))
        if updates:
            cur.execute(
                f'CREATE TEMP TABLE IF NOT EXISTS "{_STAGE}" '
                f'(LIKE "{Paper.__tablename__}") ON COMMIT DELETE ROWS'
            )
            # Empty even when an earlier statement of this transaction staged rows.
            cur.execute(f'DELETE FROM "{_STAGE}"')
            with cur.copy(builder.stage_copy_sql) as copy:
                copy.write(b"".join(updates))
            cur.execute(builder.stage_update_sql, (now,))
            cur.execute(f'DELETE FROM "{_STAGE}"')


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return _copy_text(value)
    if isinstance(value, dt.datetime):
        return copy_time(value)
    return str(value)


def _copy_int(value: int | None) -> str:
    return "\\N" if value is None else str(value)


def copy_time(value: dt.datetime | None) -> str:
    if value is None:
        return "\\N"
    if value.tzinfo is not None:
        # Columns are naive UTC; PostgreSQL would ignore an offset in timestamp input.
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(" ")


def _copy_text(value: str | None) -> str:
    if value is None:
        return "\\N"
    # Membership tests first: most values need no escaping (faster than str.translate).
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\n" in value:
        value = value.replace("\n", "\\n")
    if "\r" in value:
        value = value.replace("\r", "\\r")
    if "\t" in value:
        value = value.replace("\t", "\\t")
    return value


def _copy_expr(column: Column[Any], expr: str, env: dict[str, Any]) -> str:
    """``expr`` (a row value in the SQLite/tuple builder) as COPY text for ``column``."""
    name = column.name
    if expr in ("h", "now"):
        return expr  # hex digest; already formatted
    if expr == "up":
        return "str(up)"
    constants = {"0": 0, "False": False}
    if expr.startswith("default_") or expr in constants:
        value = _scalar_default(column) if expr.startswith("default_") else constants[expr]
        env[f"copy_{name}"] = _copy_value(value)
        return f"copy_{name}"
    if name in _JSON_COLUMNS:
        # orjson escapes control characters, so only backslashes need doubling.
        return f'{expr}.replace("\\\\", "\\\\\\\\")'
    if name in _DATETIME_COLUMNS:
        return f"T(r.{name})"
    if isinstance(column.type, Integer):
        return f"N({expr})"
    if not isinstance(column.type, String):
        return f"V({expr})"
    return f"E({expr})"


def _scalar_default(column: Column[Any]) -> Any:
    """The scalar ``default=`` of a column (callers checked ``default.is_scalar``)."""
    default: Any = column.default
    return default.arg


def copy_line(row: tuple[Any, ...]) -> bytes:
    """One row in PostgreSQL COPY text format: tab-separated, ``\\N`` for NULL, backslash,
    newline, carriage return and tab escaped; JSON columns arrive as JSON text already."""
    return ("\t".join(map(_copy_value, row)) + "\n").encode("utf-8")


_JSON_COLUMNS = frozenset(c.name for c in Paper.__table__.columns if isinstance(c.type, JSON))
_DATETIME_COLUMNS = frozenset(
    c.name for c in Paper.__table__.columns if isinstance(c.type, DateTime)
)
_INTEGER_COLUMNS = frozenset(c.name for c in Paper.__table__.columns if isinstance(c.type, Integer))


def sqlite_datetime(value: dt.datetime | None) -> str | None:
    # SQLAlchemy's storage format for DateTime on SQLite (always with microseconds), so rows
    # written here read back exactly like rows written through the ORM.
    return None if value is None else value.isoformat(" ", "microseconds")


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


class RowBuilder(NamedTuple):
    sqlite: bool
    names: tuple[str, ...]  # the row's columns, in order
    row: Callable[..., Any]  # (record, hash, upvotes, now) -> INSERT parameters
    insert_sql: str
    update_sql: str  # metadata + content_hash + modified_at, by id
    votes_sql: str  # imported_upvotes, upvotes delta, by id
    metadata_positions: tuple[int, ...]  # where the updatable metadata sits in a row
    copy_sql: str  # PostgreSQL: COPY of full rows into papers
    stage_copy_sql: str  # ... into the staging table
    stage_update_sql: str  # staged metadata + content_hash, modified_at = %s


@functools.cache
def row_builder(dialect: str) -> RowBuilder:
    """SQL and a generated row function for one dialect.

    The function is generated once from the table's columns, so a snapshot import spends no
    time on per-column dispatch, and values go straight to the driver's executemany (the
    per-value type processing of SQLAlchemy, stdlib JSON encoding and datetime formatting,
    was the largest cost of a snapshot import). Stored values equal what the ORM stores (JSON
    text may differ in whitespace/escaping, which every reader decodes alike). A column
    another area adds later gets its scalar default (or NULL). Cached per dialect: the table's
    columns are fixed for the life of the process."""
    sqlite = dialect == "sqlite"
    env: dict[str, Any] = {"J": _json_text, "D": sqlite_datetime if sqlite else (lambda v: v)}
    fixed = {
        "content_hash": "h",
        "imported_upvotes": "up",
        "upvotes": "up",
        "num_comments": "0",
        "hidden": "0" if sqlite else "False",
        "created_at": "now",
        "modified_at": "now",
    }
    names, exprs, copy_exprs = [], [], []
    copy_env: dict[str, Any] = {
        "TAB": "\t",
        "NL": "\n",
        "E": _copy_text,
        "T": copy_time,
        "N": _copy_int,
        "V": _copy_value,
    }
    for column in table_of(Paper).columns:
        name = column.name
        if name in fixed:
            expr = fixed[name]
        elif name in METADATA_FIELDS:
            expr = f"r.{name}"
            if name in _JSON_COLUMNS:
                expr = f"J({expr})"
            elif name in _DATETIME_COLUMNS:
                expr = f"D({expr})"
        elif column.default is not None and column.default.is_scalar:
            env[f"default_{name}"] = _scalar_default(column)
            expr = f"default_{name}"
        else:
            continue
        names.append(name)
        exprs.append(expr)
        copy_exprs.append(_copy_expr(column, expr, copy_env))
    if sqlite:
        row = eval(f"lambda r, h, up, now: ({', '.join(exprs)},)", env)  # noqa: S307
    else:
        # PostgreSQL: the row as one COPY text line, each column encoded by its type (no
        # per-value type dispatch; ``now`` arrives already formatted).
        row = eval(
            "lambda r, h, up, now: (TAB.join((" + ", ".join(copy_exprs) + ",)) + NL).encode()",
            {**copy_env, **env},
        )  # noqa: S307 - our columns
    m = "?" if sqlite else "%s"
    table = f'"{Paper.__tablename__}"'
    columns = ", ".join(f'"{name}"' for name in names)
    insert_sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join([m] * len(names))})"
    meta = [name for name in names if name in METADATA_FIELDS and name != "id"]
    assignments = ", ".join(f'"{name}" = {m}' for name in meta)
    update_sql = (
        f'UPDATE {table} SET {assignments}, "content_hash" = {m}, '
        f'"modified_at" = {m} WHERE "id" = {m}'
    )
    votes_sql = (
        f'UPDATE {table} SET "imported_upvotes" = {m}, "upvotes" = "upvotes" + {m} WHERE "id" = {m}'
    )
    copy_sql = f"COPY {table} ({columns}) FROM STDIN"
    stage_copy_sql = f'COPY "{_STAGE}" ({columns}) FROM STDIN'
    staged = ", ".join(f'"{name}" = s."{name}"' for name in meta + ["content_hash"])
    stage_update_sql = (
        f'UPDATE {table} AS p SET {staged}, "modified_at" = %s '
        f'FROM "{_STAGE}" AS s WHERE p."id" = s."id"'
    )
    builder = RowBuilder(
        sqlite,
        tuple(names),
        row,
        insert_sql,
        update_sql,
        votes_sql,
        tuple(names.index(name) for name in meta),
        copy_sql,
        stage_copy_sql,
        stage_update_sql,
    )
    return builder
