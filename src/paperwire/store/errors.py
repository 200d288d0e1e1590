"""The database errors callers outside store/ may need to catch, so that only store/ imports
SQLAlchemy (the "all SQL lives in store/" contract in pyproject.toml).

- ``IntegrityError``: a write lost a race on a unique key (another process inserted first).
- ``OperationalError``: the database refused the statement for now (SQLite busy or locked,
  a PostgreSQL connection lost).
"""

from sqlalchemy.exc import IntegrityError, OperationalError

__all__ = ["IntegrityError", "OperationalError"]
