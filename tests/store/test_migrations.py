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


def test_unproven_subscription_links_are_removed_by_0003(tmp_path):
    """Accounts linked to a subscription by the old code (no proof the holder reads the
    address: issue 12 D1) lose the link; the subscription and its preferences stay."""
    from sqlalchemy import text

    from paperwire.store.db import Database

    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(db, "0002")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, username, email, password_hash, is_admin, disabled, "
                "created_at) VALUES (1, 'mallory', 'reader@example.org', 'x', false, false, "
                "CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO subscriptions (id, email, user_id, status, editions, max_papers, "
                "topics, token_version, failure_count, created_at) VALUES (1, "
                "'reader@example.org', 1, 'active', 'daily', 7, '[]', 0, 0, CURRENT_TIMESTAMP)"
            )
        )
    assert upgrade(db, "0003") == ["0003"]
    with db.engine.connect() as conn:
        row = conn.execute(text("SELECT user_id, status, max_papers FROM subscriptions")).one()
    assert tuple(row) == (None, "active", 7)
    db.dispose()
