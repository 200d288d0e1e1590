"""Alembic environment: uses the engine/connection handed over by ``store.migrate``."""

from alembic import context
from sqlalchemy.engine import Connection

from paperwire.store.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_with(connection)
        return
    engine = config.attributes["engine"]
    with engine.begin() as conn:
        _run_with(conn)


def _run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
