"""The shapes every layer shares, with no dependency on any of them: the normalized
``PaperRecord`` each source is parsed into (``paper.py``) and the links found in or added to a
paper (``links.py``, pure functions).

Ingest produces these, the store merges and stores them, search, web and services read them;
this package imports nothing else of Paperwire, so none of those depends on another through
it (the layer contract in pyproject.toml checks that).
"""

from paperwire.records.paper import METADATA_FIELDS, PaperRecord

__all__ = ["METADATA_FIELDS", "PaperRecord"]
