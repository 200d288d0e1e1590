"""Run Alembic migrations programmatically (on start and via `paperwire migrate`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from paperwire.store.db import Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = db.engine
    return cfg


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(db: Database) -> str:
    head = ScriptDirectory.from_config(alembic_config(db)).get_current_head()
    assert head is not None, "the migrations have a head"
    return head


def upgrade(db: Database, revision: str = "head") -> list[str]:
    """Apply pending migrations; returns the revisions applied (empty when up to date)."""
    before = current_revision(db)
    if before == head_revision(db) and revision == "head":
        return []
    cfg = alembic_config(db)
    # A lock keeps two processes starting at once from migrating the same PostgreSQL database
    # twice; SQLite serialises writers by itself.
    if db.dialect == "postgresql":
        with db.engine.begin() as conn:
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(48151623)")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    else:
        command.upgrade(cfg, revision)
    script = ScriptDirectory.from_config(cfg)
    after = current_revision(db)
    applied = []
    for rev in script.walk_revisions(base="base", head=after or "base"):
        if rev.revision == before:
            break
        applied.append(rev.revision)
    return list(reversed(applied))
