"""Shared fixtures: settings in a temporary data dir, and a migrated, empty database on
SQLite and on PostgreSQL (the same tests run on both).

PostgreSQL: the server at PAPERWIRE_TEST_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/test). Each pytest process migrates its own schema once
and empties the tables between tests. Without a reachable server the PostgreSQL half is
skipped with a message saying how to enable it.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from paperwire.config import load_settings
from paperwire.store.db import Database
from paperwire.store.migrate import upgrade
from paperwire.store.models import Base

POSTGRES_URL = os.environ.get(
    "PAPERWIRE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
POSTGRES_HINT = (
    "PostgreSQL not reachable at {url} ({err}); start a server with trust auth "
    "and a database `test`, or point PAPERWIRE_TEST_POSTGRES_URL at one, to run "
    "the PostgreSQL half"
)
REQUIRE_POSTGRES = os.environ.get("PAPERWIRE_TEST_REQUIRE_POSTGRES") == "1"

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.engine.dispose()
    return path


@pytest.fixture(scope="session")
def _postgres_schema_url():
    """A PostgreSQL URL whose search_path is a fresh, migrated schema for this process."""
    import psycopg

    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3) as conn:
            schema = f"pwtest_{uuid.uuid4().hex[:10]}"
            conn.execute(f'CREATE SCHEMA "{schema}"')
            conn.commit()
    except Exception as exc:  # noqa: BLE001 - any failure means: no server for us
        if REQUIRE_POSTGRES:
            raise
        yield None, POSTGRES_HINT.format(url=POSTGRES_URL, err=str(exc).splitlines()[0])
        return
    sep = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    db = Database(url)
    upgrade(db)
    db.dispose()
    try:
        yield url, None
    finally:
        with psycopg.connect(POSTGRES_URL) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
            conn.commit()


def _truncate_all(db: Database) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path, _sqlite_template) -> str:
    """URL of a migrated, empty database; parametrized over SQLite and PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "paperwire.db"
        shutil.copy(_sqlite_template, path)
        return f"sqlite:///{path}"
    url, why_not = request.getfixturevalue("_postgres_schema_url")
    if url is None:
        pytest.skip(why_not)
    db = Database(url)
    _truncate_all(db)
    db.dispose()
    return url


@pytest.fixture
def db(db_url) -> Database:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def settings(tmp_path, db_url):
    """Settings pointing at the test database and a temporary data dir (no demo data)."""
    return load_settings(
        env={},
        data_dir=tmp_path / "data",
        database_url=db_url,
        load_demo_data=False,
        secret_key="test-secret-key",
        arxiv_delay_seconds=0.0,
    )
