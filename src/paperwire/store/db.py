"""Engine and session factory for SQLite (embedded default) and PostgreSQL.

Invariants:
- SQLite connections run in WAL mode with foreign keys on and a busy timeout, so a web process
  and a worker can share one file.
- ``postgresql://`` URLs are served by psycopg 3.
- ``Database.session()`` is a context manager that commits on success and rolls back on error.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import orjson
from sqlalchemy import create_engine, event
from sqlalchemy.engine import CursorResult, Engine, Result, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from paperwire.config import Settings


def normalize_url(url: str) -> str:
    """Pick the psycopg 3 driver for plain PostgreSQL URLs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    # NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the
    # last transactions, which a re-import or re-harvest restores.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def json_loads(text: str | bytes) -> Any:
    """JSON columns as Python values: orjson (several times faster than the standard library;
    a result page decodes a few JSON columns per paper), and the standard library for what
    orjson refuses but ``json`` accepts (NaN, Infinity), so a value written by another tool
    still reads. The one difference from ``json.loads``: an integer beyond 64 bits comes back
    as a float (no column holds one; the read-side guards drop such values either way)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def make_engine(url: str, **kwargs: Any) -> Engine:
    kwargs.setdefault("json_deserializer", json_loads)
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 10)
    return create_engine(url, **kwargs)


class Database:
    """An engine plus a session factory; one per process and database URL."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = normalize_url(url)
        self.engine = make_engine(self.url, **engine_kwargs)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE executed through a ``Session`` matched (``Session.execute``
    is typed as returning a plain ``Result``; for DML it is a ``CursorResult``)."""
    return cast(CursorResult[Any], result).rowcount


def flush_unique(session: Session, *rows: object) -> bool:
    """Add ``rows`` (if any) and flush the session's pending changes in a savepoint. False when
    the database refused them (a unique constraint: a concurrent writer of the same key won);
    the savepoint is rolled back and the caller's transaction stays usable."""
    try:
        with session.begin_nested():
            session.add_all(rows)
            session.flush()
    except IntegrityError:
        return False
    return True


def open_database(settings: Settings, *, migrate: bool = True) -> Database:
    """Open the configured database, applying pending migrations first when asked."""
    db = Database(settings.effective_database_url)
    if migrate:
        from paperwire.store.migrate import upgrade

        upgrade(db)
    return db
