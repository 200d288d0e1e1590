"""The migrations build exactly the schema the models describe, on both databases."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from paperwire.store.migrate import current_revision, head_revision, upgrade
from paperwire.store.models import Base


def test_migrations_reach_head(db):
    assert current_revision(db) == head_revision(db)


def test_models_match_migrated_schema(db):
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_upgrade_twice_applies_nothing(db):
    assert upgrade(db) == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys(db):
    if db.dialect != "sqlite":
        pytest.skip("SQLite-only pragmas")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
