"""Storage primitives shared by the search indexes and the embedder.

- ``Generation`` (files.py): a folder whose live state is named by one pointer file that is
  replaced atomically; new files are staged under temporary names, published by switching
  the pointer, and old generations and dead writers' temporaries are cleaned up.
  ``atomic_write`` is the one write-temp/fsync/rename helper.
- ``NamedLock`` (locks.py): a cross-process lock held across many transactions or for a
  process's life; a PostgreSQL advisory lock or a ``flock`` (store/locks.py does the work).
- ``ChangeCursor`` (cursor.py): the watermark + overlap window of a change feed read by
  timestamp (the lexical refresh, the semantic index, the background embedder).
"""

from paperwire.search.storage.cursor import OVERLAP, ChangeCursor
from paperwire.search.storage.files import Generation, atomic_write, fsync_dir, temp_path
from paperwire.search.storage.locks import NamedLock

__all__ = [
    "OVERLAP",
    "ChangeCursor",
    "Generation",
    "NamedLock",
    "atomic_write",
    "fsync_dir",
    "temp_path",
]
