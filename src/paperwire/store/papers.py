"""Papers: batched idempotent upsert and the reads every area needs.

Invariants of ``upsert_papers``:
- Importing the same records twice changes nothing the second time (all ``unchanged``).
- A record for a stored paper is merged into it by the per-source rules of ``store.merge``:
  an absent or empty field never erases a stored value, a newer arXiv version wins (records
  without a version number are compared by ``updated_at``, see ``may_replace``), and a feed
  record (Daily Papers, seed) only fills gaps in a paper arXiv described.
- Community data (upvotes, comments, feed entries, ``hidden``) is never touched; only
  ``imported_upvotes`` moves when a source brings a different count, and ``upvotes`` moves by
  the same difference.
- ``modified_at`` is bumped whenever metadata changes, which is what the search indexes follow.
- ``paper_authors`` (``store.authors``) is rewritten for every inserted paper and every paper
  whose merged metadata changed, in the same transaction.
- The links named in a new or changed abstract or arXiv comment are stored with the paper
  (``store.links.sync_extracted``, same transaction).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import orjson
from sqlalchemy import JSON, DateTime, Integer, String, func, select
from sqlalchemy.orm import Session

from paperwire.ingest.records import METADATA_FIELDS, PaperRecord
from paperwire.store.authors import author_rows, replace_paper_authors
from paperwire.store.merge import merge_records
from paperwire.store.models import Paper, utcnow

# Keeps each SELECT ... IN (...) well under SQLite's variable limit.
_LOOKUP_CHUNK = 900


@dataclass
class UpsertResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    new_ids: list[str] = field(default_factory=list)
    updated_ids: list[str] = field(default_factory=list)

    def add(self, other: UpsertResult) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.new_ids += other.new_ids
        self.updated_ids += other.updated_ids


def _existing(session: Session, ids: Sequence[str]) -> dict[str, tuple]:
    """{id: (content_hash, version, imported_upvotes, updated_at)} of the stored ones."""
    found: dict[str, tuple] = {}
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    # PostgreSQL takes the whole batch as one array parameter; SQLite needs chunks.
    step = _LOOKUP_CHUNK if sqlite else max(len(ids), 1)
    for start in range(0, len(ids), step):
        chunk = list(ids[start:start + step])
        # Plain driver SQL: compiling an IN of 900 bound parameters through SQLAlchemy cost
        # more than the lookup itself during snapshot imports.
        if sqlite:
            sql = ('SELECT id, content_hash, version, imported_upvotes, updated_at FROM papers '
                   f'WHERE id IN ({", ".join("?" * len(chunk))})')
            params: tuple = tuple(chunk)
        else:
            sql = ('SELECT id, content_hash, version, imported_upvotes, updated_at FROM papers '
                   'WHERE id = ANY(%s)')
            params = (chunk,)
        for pid, chash, version, imported, updated in conn.exec_driver_sql(sql, params):
            if sqlite and isinstance(updated, str):
                updated = dt.datetime.fromisoformat(updated)
            found[pid] = (chash, version, imported, updated)
    return found


class PreparedPaper(NamedTuple):
    """A record turned into what the database needs (plain values, cheap to pickle, so
    parsing can run in worker processes), plus what the upsert decides with. ``row`` is the
    full row in ``_row_builder`` column order: a tuple of parameters on SQLite, one line of
    PostgreSQL COPY text format (bytes, ending in a newline) on PostgreSQL, so the encoding
    cost is paid in the parser processes rather than in the single writer."""

    id: str
    version: int | None
    updated_at: dt.datetime | None
    content_hash: str
    imported_upvotes: int | None
    row: tuple
    # ``store.authors.author_rows`` of the record (computed with the row, off the writer).
    authors: tuple = ()


def prepare_paper(record: PaperRecord, dialect: str, now: dt.datetime | None = None) \
        -> PreparedPaper:
    """Pure: no database access; ``dialect`` is 'sqlite' or 'postgresql'."""
    builder = _row_builder(dialect)
    now = now or utcnow()
    chash = record.content_hash()
    now_value = _sqlite_datetime(now) if builder.sqlite else now
    if not builder.sqlite:
        now_value = _copy_time(now)
    row = builder.row(record, chash, record.imported_upvotes or 0, now_value)
    return PreparedPaper(record.id, record.version, record.updated_at, chash,
                         record.imported_upvotes, row,
                         tuple(author_rows(record.id, record.authors)))


def upsert_papers(session: Session, records: Iterable[PaperRecord]) -> UpsertResult:
    """Insert new papers and update changed ones, in the caller's transaction."""
    dialect = session.connection().dialect.name
    now = utcnow()
    return upsert_prepared(session, [prepare_paper(r, dialect, now) for r in records])


def upsert_prepared(session: Session, papers: Iterable[PreparedPaper]) -> UpsertResult:
    """``upsert_papers`` for records already prepared (see the module invariants)."""
    # Last record wins when a batch names the same id twice (a dump listing two versions).
    by_id: dict[str, PreparedPaper] = {}
    for paper in papers:
        prev = by_id.get(paper.id)
        if prev is None or (paper.version or 0) >= (prev.version or 0):
            by_id[paper.id] = paper
    result = UpsertResult()
    if not by_id:
        return result
    conn = session.connection()
    builder = _row_builder(conn.dialect.name)
    existing = _existing(session, list(by_id))
    now = utcnow()
    now_value = _sqlite_datetime(now) if builder.sqlite else now
    inserts, meta_updates, vote_updates = [], [], []
    author_inserts: list[tuple] = []
    authors_replaced: list[str] = []
    # A stored paper whose content differs is merged (store.merge) with what is stored; only
    # those rows are read in full, so re-importing an unchanged dump costs no extra reads.
    differing = [pid for pid, paper in by_id.items()
                 if pid in existing and existing[pid][0] != paper.content_hash]
    stored = _stored_records(session, differing) if differing else {}
    for pid, paper in by_id.items():
        row = existing.get(pid)
        if row is None:
            inserts.append(paper.row)
            author_inserts.extend(paper.authors)
            result.new_ids.append(pid)
            continue
        old_hash, _old_version, old_imported, _old_updated = row
        metadata_changed = False
        if pid in stored:
            merged = merge_records(stored[pid], _incoming_record(builder, paper))
            merged_hash = merged.content_hash()
            metadata_changed = merged_hash != old_hash
        votes_changed = (paper.imported_upvotes is not None
                         and paper.imported_upvotes != old_imported)
        if not metadata_changed and not votes_changed:
            result.unchanged += 1
            continue
        if metadata_changed:
            authors_replaced.append(pid)
            author_inserts.extend(author_rows(pid, merged.authors))
            merged_row = builder.row(merged, merged_hash, 0, now_value if builder.sqlite
                                     else _copy_time(now))
            if builder.sqlite:
                meta_updates.append(tuple(merged_row[i] for i in builder.metadata_positions)
                                    + (merged_hash, now_value, pid))
            else:
                meta_updates.append(merged_row)
        if votes_changed:
            vote_updates.append((paper.imported_upvotes, paper.imported_upvotes - old_imported,
                                 pid))
        result.updated_ids.append(pid)
    if builder.sqlite:
        if inserts:
            conn.exec_driver_sql(builder.insert_sql, inserts)
        if meta_updates:
            conn.exec_driver_sql(builder.update_sql, meta_updates)
    else:
        _pg_write(conn, builder, inserts, meta_updates, now)
    if vote_updates:
        conn.exec_driver_sql(builder.votes_sql, vote_updates)
    replace_paper_authors(session, author_inserts, replace_ids=authors_replaced)
    # Links to code and resources named in the (new or changed) abstracts and comments; the
    # rows above already bumped modified_at, so the indexes see the new has: kinds.
    from paperwire.store.links import sync_extracted

    sync_extracted(session, result.new_ids + result.updated_ids, bump=False)
    result.new = len(result.new_ids)
    result.updated = len(result.updated_ids)
    return result


def _stored_records(session: Session, ids: Sequence[str]) -> dict[str, PaperRecord]:
    """The stored metadata of these papers, as records (for merging)."""
    columns = [getattr(Paper, name) for name in METADATA_FIELDS]
    found = {}
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        chunk = list(ids[start:start + _LOOKUP_CHUNK])
        for row in session.execute(select(*columns, Paper.imported_upvotes)
                                   .where(Paper.id.in_(chunk))):
            values = dict(zip(METADATA_FIELDS, row))
            found[values["id"]] = PaperRecord(imported_upvotes=row[-1], **values)
    return found


def _incoming_record(builder: _Builder, paper: PreparedPaper) -> PaperRecord:
    """The record a prepared row was made from (the inverse of ``builder.row`` for the
    metadata), so rows can travel from the parser processes without their records."""
    if builder.sqlite:
        raw = dict(zip(builder.names, paper.row))
    else:
        raw = dict(zip(builder.names, _copy_fields(paper.row)))
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
    return PaperRecord(imported_upvotes=paper.imported_upvotes, **values)


_COPY_ESCAPE = re.compile(r"\\(.)")
_COPY_UNESCAPE = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\"}


def _copy_fields(line: bytes) -> list[str | None]:
    """One COPY text line (see ``copy_line``) back into its values (None for ``\\N``)."""
    return [None if field == "\\N" else
            _COPY_ESCAPE.sub(lambda m: _COPY_UNESCAPE.get(m.group(1), m.group(1)), field)
            for field in line.decode("utf-8").rstrip("\n").split("\t")]


# Rows whose metadata changed are staged here (COPY) and applied with one UPDATE ... FROM.
# Temporary (per connection, never logged) and emptied at every commit.
_STAGE = "pw_papers_stage"


def _pg_write(conn, builder: _Builder, inserts: list[bytes], updates: list[bytes],
              now: dt.datetime) -> None:
    """PostgreSQL: new rows by COPY, changed metadata by COPY into a staging table and one
    UPDATE ... FROM, all in the caller's transaction (so a batch and its resume point still
    commit together). COPY costs the server and this process far less per row than
    executemany's one INSERT per row; the rows arrive already encoded (``copy_line``)."""
    if not inserts and not updates:
        return
    raw = conn.connection.dbapi_connection
    with raw.cursor() as cur:
        if inserts:
            with cur.copy(builder.copy_sql) as copy:
                copy.write(b"".join(inserts))
        if updates:
            cur.execute(f'CREATE TEMP TABLE IF NOT EXISTS "{_STAGE}" '
                        f'(LIKE "{Paper.__tablename__}") ON COMMIT DELETE ROWS')
            # Empty even when an earlier statement of this transaction staged rows.
            cur.execute(f'DELETE FROM "{_STAGE}"')
            with cur.copy(builder.stage_copy_sql) as copy:
                copy.write(b"".join(updates))
            cur.execute(builder.stage_update_sql, (now,))
            cur.execute(f'DELETE FROM "{_STAGE}"')


def bulk_load_transaction(session: Session) -> None:
    """Make the current transaction commit without waiting for the WAL flush (PostgreSQL).

    Only for batches of a resumable import, whose resume point commits in the same
    transaction. A ``kill -9`` of the importer loses nothing committed (the server has it).
    A crash of the database server itself can lose the last few such commits (at most about
    three ``wal_writer_delay``, 600 ms by default), batch and resume point together, never
    one without the other; rerunning the import redoes them. The import ends with an ordinary
    commit (deleting the resume point), which flushes the WAL with every earlier batch, so a
    finished import is fully durable. No effect on SQLite."""
    if session.connection().dialect.name == "postgresql":
        session.connection().exec_driver_sql("SET LOCAL synchronous_commit = off")


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return _copy_text(value)
    if isinstance(value, dt.datetime):
        return _copy_time(value)
    return str(value)


def _copy_int(value) -> str:
    return "\\N" if value is None else str(value)


def _copy_time(value: dt.datetime | None) -> str:
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


def _copy_expr(column, expr: str, env: dict) -> str:
    """``expr`` (a row value in the SQLite/tuple builder) as COPY text for ``column``."""
    name = column.name
    if expr in ("h", "now"):
        return expr                    # hex digest; already formatted
    if expr == "up":
        return "str(up)"
    constants = {"0": 0, "False": False}
    if expr.startswith("default_") or expr in constants:
        value = column.default.arg if expr.startswith("default_") else constants[expr]
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


def copy_line(row: tuple) -> bytes:
    """One row in PostgreSQL COPY text format: tab-separated, ``\\N`` for NULL, backslash,
    newline, carriage return and tab escaped; JSON columns arrive as JSON text already."""
    return ("\t".join(map(_copy_value, row)) + "\n").encode("utf-8")


_JSON_COLUMNS = frozenset(c.name for c in Paper.__table__.columns if isinstance(c.type, JSON))
_DATETIME_COLUMNS = frozenset(c.name for c in Paper.__table__.columns
                              if isinstance(c.type, DateTime))
_INTEGER_COLUMNS = frozenset(c.name for c in Paper.__table__.columns
                             if isinstance(c.type, Integer))


def _sqlite_datetime(value: dt.datetime | None) -> str | None:
    # SQLAlchemy's storage format for DateTime on SQLite (always with microseconds), so rows
    # written here read back exactly like rows written through the ORM.
    return None if value is None else value.isoformat(" ", "microseconds")


def _json_text(value) -> str:
    return orjson.dumps(value).decode()


class _Builder(NamedTuple):
    sqlite: bool
    names: tuple                       # the row's columns, in order
    row: Callable                      # (record, hash, upvotes, now) -> INSERT parameters
    insert_sql: str
    update_sql: str                    # metadata + content_hash + modified_at, by id
    votes_sql: str                     # imported_upvotes, upvotes delta, by id
    metadata_positions: tuple          # where the updatable metadata sits in a row
    copy_sql: str                      # PostgreSQL: COPY of full rows into papers
    stage_copy_sql: str                # ... into the staging table
    stage_update_sql: str              # staged metadata + content_hash, modified_at = %s


_ROW_BUILDERS: dict[str, _Builder] = {}


def _row_builder(dialect: str) -> _Builder:
    """SQL and a generated row function for one dialect.

    The function is generated once from the table's columns, so a snapshot import spends no
    time on per-column dispatch, and values go straight to the driver's executemany (the
    per-value type processing of SQLAlchemy, stdlib JSON encoding and datetime formatting,
    was the largest cost of a snapshot import). Stored values equal what the ORM stores (JSON
    text may differ in whitespace/escaping, which every reader decodes alike). A column
    another area adds later gets its scalar default (or NULL)."""
    if dialect in _ROW_BUILDERS:
        return _ROW_BUILDERS[dialect]
    sqlite = dialect == "sqlite"
    env: dict = {"J": _json_text, "D": _sqlite_datetime if sqlite else (lambda v: v)}
    fixed = {"content_hash": "h", "imported_upvotes": "up", "upvotes": "up",
             "num_comments": "0", "hidden": "0" if sqlite else "False",
             "created_at": "now", "modified_at": "now"}
    names, exprs, copy_exprs = [], [], []
    copy_env: dict = {"TAB": "\t", "NL": "\n", "E": _copy_text, "T": _copy_time, "N": _copy_int,
                      "V": _copy_value}
    for column in Paper.__table__.columns:
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
            env[f"default_{name}"] = column.default.arg
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
        row = eval("lambda r, h, up, now: (TAB.join((" + ", ".join(copy_exprs) + ",)) + NL)"
                   ".encode()", {**copy_env, **env})  # noqa: S307 - our columns
    m = "?" if sqlite else "%s"
    table = f'"{Paper.__tablename__}"'
    columns = ", ".join(f'"{name}"' for name in names)
    insert_sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join([m] * len(names))})"
    meta = [name for name in names if name in METADATA_FIELDS and name != "id"]
    assignments = ", ".join(f'"{name}" = {m}' for name in meta)
    update_sql = (f'UPDATE {table} SET {assignments}, "content_hash" = {m}, '
                  f'"modified_at" = {m} WHERE "id" = {m}')
    votes_sql = (f'UPDATE {table} SET "imported_upvotes" = {m}, '
                 f'"upvotes" = "upvotes" + {m} WHERE "id" = {m}')
    copy_sql = f"COPY {table} ({columns}) FROM STDIN"
    stage_copy_sql = f'COPY "{_STAGE}" ({columns}) FROM STDIN'
    staged = ", ".join(f'"{name}" = s."{name}"' for name in meta + ["content_hash"])
    stage_update_sql = (f'UPDATE {table} AS p SET {staged}, "modified_at" = %s '
                        f'FROM "{_STAGE}" AS s WHERE p."id" = s."id"')
    builder = _Builder(sqlite, tuple(names), row, insert_sql, update_sql, votes_sql,
                       tuple(names.index(name) for name in meta), copy_sql, stage_copy_sql,
                       stage_update_sql)
    _ROW_BUILDERS[dialect] = builder
    return builder


def _bulk_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA cache_size=-262144")       # 256 MiB
    cur.execute("PRAGMA wal_autocheckpoint=16384")  # 64 MiB of WAL between checkpoints
    cur.close()


def tune_for_bulk_load(db) -> None:
    """Settings for this process's SQLite connections while it loads millions of rows.

    A page cache that holds the indexes (the default 2 MB does not once the table passes a
    few hundred thousand papers) and fewer WAL checkpoints. Durability is unchanged: still
    WAL with synchronous=NORMAL. PostgreSQL needs nothing here."""
    if db.dialect != "sqlite":
        return
    from sqlalchemy import event

    if not event.contains(db.engine, "connect", _bulk_pragmas):
        event.listen(db.engine, "connect", _bulk_pragmas)
    # Connections already in the pool get them now.
    with db.engine.connect() as conn:
        _bulk_pragmas(conn.connection.dbapi_connection, None)


def get_paper(session: Session, paper_id: str) -> Paper | None:
    return session.get(Paper, paper_id)


def get_papers(session: Session, ids: Sequence[str]) -> dict[str, Paper]:
    """Papers by id in one query per chunk (no N+1 for result lists)."""
    found: dict[str, Paper] = {}
    ids = list(dict.fromkeys(ids))
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        chunk = ids[start:start + _LOOKUP_CHUNK]
        for paper in session.scalars(select(Paper).where(Paper.id.in_(chunk))):
            found[paper.id] = paper
    return found


def count_papers(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Paper)) or 0


def iter_papers(session: Session, batch_size: int = 1000,
                modified_after: dt.datetime | None = None) -> Iterator[list[Paper]]:
    """All papers in id order, in batches (keyset pagination: constant memory)."""
    last_id = ""
    while True:
        query = select(Paper).where(Paper.id > last_id).order_by(Paper.id).limit(batch_size)
        if modified_after is not None:
            query = query.where(Paper.modified_at > modified_after)
        batch = list(session.scalars(query))
        if not batch:
            return
        yield batch
        last_id = batch[-1].id
        session.expunge_all()


def paper_to_record(paper: Paper) -> PaperRecord:
    """The PaperRecord a stored paper was made from (lossless for METADATA_FIELDS)."""
    values = {name: getattr(paper, name) for name in METADATA_FIELDS}
    return PaperRecord(imported_upvotes=paper.imported_upvotes, **values)


def iter_export_rows(session: Session, batch_size: int = 2000) -> Iterator[list[tuple]]:
    """(Paper, feed day, submitter name, submitted at) for all papers in id order, in batches.

    The submitter name is the imported name or, for local submitters, their username, so an
    export re-imports into another database without needing its users."""
    from paperwire.store.models import FeedEntry, User

    last_id = ""
    while True:
        query = (select(Paper, FeedEntry.day,
                        func.coalesce(FeedEntry.submitted_by_name, User.username),
                        FeedEntry.submitted_at)
                 .outerjoin(FeedEntry, FeedEntry.paper_id == Paper.id)
                 .outerjoin(User, User.id == FeedEntry.submitted_by)
                 .where(Paper.id > last_id).order_by(Paper.id).limit(batch_size))
        batch = [tuple(row) for row in session.execute(query)]
        if not batch:
            return
        yield batch
        last_id = batch[-1][0].id
        session.expunge_all()
