"""All SQL lives in this package: models, migrations, and query/command modules per area.

Query modules take a SQLAlchemy ``Session`` (or the ``Database``) and return plain values or
model objects; the rest of Paperwire never builds SQL itself.
"""

from paperwire.store.db import Database, open_database

__all__ = ["Database", "open_database"]
