"""All SQL lives in this package: models, migrations, and query/command modules per area.

Query modules take a SQLAlchemy ``Session`` (or the ``Database``) and return plain values or
model objects; the rest of Paperwire never builds SQL itself.
"""

from sqlalchemy.orm import Session

from paperwire.store.db import Database, open_database

# Session is re-exported for annotations: outside store/, code names it from here, never
# from sqlalchemy (the "all SQL lives in store/" contract in pyproject.toml).
__all__ = ["Database", "Session", "open_database"]
