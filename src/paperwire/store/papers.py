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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from paperwire.records import METADATA_FIELDS, PaperRecord
from paperwire.store.authors import author_rows, replace_paper_authors
from paperwire.store.db import Database
from paperwire.store.merge import merge_records
from paperwire.store.models import Paper, utcnow
from paperwire.store.paper_rows import (
    copy_line,
    copy_time,
    incoming_record,
    pg_write,
    row_builder,
    sqlite_datetime,
)

# ``copy_line`` is part of this module's interface (rows for COPY; see ``PreparedPaper``).
__all__ = [
    "PreparedPaper",
    "UpsertResult",
    "bulk_load_transaction",
    "copy_line",
    "count_papers",
    "get_paper",
    "get_papers",
    "iter_export_rows",
    "iter_papers",
    "paper_to_record",
    "prepare_paper",
    "tune_for_bulk_load",
    "upsert_papers",
    "upsert_prepared",
]

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


def _existing(session: Session, ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """{id: (content_hash, version, imported_upvotes, updated_at)} of the stored ones."""
    found: dict[str, tuple[Any, ...]] = {}
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    # PostgreSQL takes the whole batch as one array parameter; SQLite needs chunks.
    step = _LOOKUP_CHUNK if sqlite else max(len(ids), 1)
    for start in range(0, len(ids), step):
        chunk = list(ids[start : start + step])
        # Plain driver SQL: compiling an IN of 900 bound parameters through SQLAlchemy cost
        # more than the lookup itself during snapshot imports.
        if sqlite:
            sql = (
                "SELECT id, content_hash, version, imported_upvotes, updated_at FROM papers "
                f"WHERE id IN ({', '.join('?' * len(chunk))})"
            )
            params: tuple[Any, ...] = tuple(chunk)
        else:
            sql = (
                "SELECT id, content_hash, version, imported_upvotes, updated_at FROM papers "
                "WHERE id = ANY(%s)"
            )
            params = (chunk,)
        for pid, chash, version, imported, updated in conn.exec_driver_sql(sql, params):
            if sqlite and isinstance(updated, str):
                updated = dt.datetime.fromisoformat(updated)
            found[pid] = (chash, version, imported, updated)
    return found


class PreparedPaper(NamedTuple):
    """A record turned into what the database needs (plain values, cheap to pickle, so
    parsing can run in worker processes), plus what the upsert decides with. ``row`` is the
    full row in ``paper_rows.row_builder`` column order: a tuple of parameters on SQLite, one line of
    PostgreSQL COPY text format (bytes, ending in a newline) on PostgreSQL, so the encoding
    cost is paid in the parser processes rather than in the single writer."""

    id: str
    version: int | None
    updated_at: dt.datetime | None
    content_hash: str
    imported_upvotes: int | None
    row: tuple[Any, ...] | bytes
    # ``store.authors.author_rows`` of the record (computed with the row, off the writer).
    authors: tuple[Any, ...] = ()


def prepare_paper(
    record: PaperRecord, dialect: str, now: dt.datetime | None = None
) -> PreparedPaper:
    """Pure: no database access; ``dialect`` is 'sqlite' or 'postgresql'."""
    builder = row_builder(dialect)
    now = now or utcnow()
    chash = record.content_hash()
    now_value = sqlite_datetime(now) if builder.sqlite else now
    if not builder.sqlite:
        now_value = copy_time(now)
    row = builder.row(record, chash, record.imported_upvotes or 0, now_value)
    return PreparedPaper(
        record.id,
        record.version,
        record.updated_at,
        chash,
        record.imported_upvotes,
        row,
        tuple(author_rows(record.id, record.authors)),
    )


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
    builder = row_builder(conn.dialect.name)
    existing = _existing(session, list(by_id))
    now = utcnow()
    now_value = sqlite_datetime(now) if builder.sqlite else now
    # SQLite: tuples of parameters; PostgreSQL: COPY lines (``PreparedPaper.row``).
    inserts: list[Any] = []
    meta_updates: list[Any] = []
    vote_updates: list[tuple[int | None, int, str]] = []
    author_inserts: list[tuple[Any, ...]] = []
    authors_replaced: list[str] = []
    # A stored paper whose content differs is merged (store.merge) with what is stored; only
    # those rows are read in full, so re-importing an unchanged dump costs no extra reads.
    differing = [
        pid
        for pid, paper in by_id.items()
        if pid in existing and existing[pid][0] != paper.content_hash
    ]
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
            merged = merge_records(
                stored[pid], incoming_record(builder, paper.row, paper.imported_upvotes)
            )
            merged_hash = merged.content_hash()
            metadata_changed = merged_hash != old_hash
        votes_changed = (
            paper.imported_upvotes is not None and paper.imported_upvotes != old_imported
        )
        if not metadata_changed and not votes_changed:
            result.unchanged += 1
            continue
        if metadata_changed:
            authors_replaced.append(pid)
            author_inserts.extend(author_rows(pid, merged.authors))
            merged_row = builder.row(
                merged, merged_hash, 0, now_value if builder.sqlite else copy_time(now)
            )
            if builder.sqlite:
                meta_updates.append(
                    tuple(merged_row[i] for i in builder.metadata_positions)
                    + (merged_hash, now_value, pid)
                )
            else:
                meta_updates.append(merged_row)
        if votes_changed:
            vote_updates.append(
                (paper.imported_upvotes, paper.imported_upvotes - old_imported, pid)
            )
        result.updated_ids.append(pid)
    if builder.sqlite:
        if inserts:
            conn.exec_driver_sql(builder.insert_sql, inserts)
        if meta_updates:
            conn.exec_driver_sql(builder.update_sql, meta_updates)
    else:
        pg_write(conn, builder, inserts, meta_updates, now)
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
        chunk = list(ids[start : start + _LOOKUP_CHUNK])
        for row in session.execute(
            select(*columns, Paper.imported_upvotes).where(Paper.id.in_(chunk))
        ):
            values = dict(zip(METADATA_FIELDS, row))
            found[values["id"]] = PaperRecord(imported_upvotes=row[-1], **values)
    return found


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


def _bulk_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA cache_size=-262144")  # 256 MiB
    cur.execute("PRAGMA wal_autocheckpoint=16384")  # 64 MiB of WAL between checkpoints
    cur.close()


def tune_for_bulk_load(db: Database) -> None:
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
        chunk = ids[start : start + _LOOKUP_CHUNK]
        for paper in session.scalars(select(Paper).where(Paper.id.in_(chunk))):
            found[paper.id] = paper
    return found


def count_papers(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Paper)) or 0


def iter_papers(
    session: Session, batch_size: int = 1000, modified_after: dt.datetime | None = None
) -> Iterator[list[Paper]]:
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


def iter_export_rows(session: Session, batch_size: int = 2000) -> Iterator[list[tuple[Any, ...]]]:
    """(Paper, feed day, submitter name, submitted at) for all papers in id order, in batches.

    The submitter name is the imported name or, for local submitters, their username, so an
    export re-imports into another database without needing its users."""
    from paperwire.store.models import FeedEntry, User

    last_id = ""
    while True:
        query = (
            select(
                Paper,
                FeedEntry.day,
                func.coalesce(FeedEntry.submitted_by_name, User.username),
                FeedEntry.submitted_at,
            )
            .outerjoin(FeedEntry, FeedEntry.paper_id == Paper.id)
            .outerjoin(User, User.id == FeedEntry.submitted_by)
            .where(Paper.id > last_id)
            .order_by(Paper.id)
            .limit(batch_size)
        )
        batch: list[tuple[Any, ...]] = [tuple(row) for row in session.execute(query)]
        if not batch:
            return
        yield batch
        last_id = batch[-1][0].id
        session.expunge_all()
