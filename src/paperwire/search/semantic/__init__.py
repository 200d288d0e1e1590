"""Semantic search: an ANN index (usearch HNSW, int8, cosine) over the stored embeddings.

Scores (``SEMANTIC_SCORE``) are cosine similarities in [-1, 1] between the query (or paper)
embedding and a paper's embedding as stored in the index (int8-quantized), higher is closer.

Modules: ``index`` (``SemanticIndex``: loading, refresh, compaction, queries), ``files`` (a
generation on disk and its manifest; the format history), ``table`` (the main generation's
entries as memory-mapped ``.npy`` arrays with surrogate keys), ``delta`` (entries newer than
the generation), ``scoring`` (ANN and exact scoring), ``graph`` (usearch HNSW), ``registry``
(indexes open in this process). Generations, the writer lock and the change cursor are the
shared primitives of ``search/storage``.
"""

from paperwire.search.semantic.files import FORMAT
from paperwire.search.semantic.graph import (
    EXPANSION_SEARCH,
    HNSW,
    SEMANTIC_SCORE,
    VectorSpace,
    insert,
    new_graph,
    quantize,
)
from paperwire.search.semantic.index import COMPACT_MIN, EXACT_LIMIT, SemanticIndex
from paperwire.search.semantic.registry import mark_open_indexes_dirty
from paperwire.search.storage import OVERLAP

__all__ = [
    "COMPACT_MIN",
    "EXACT_LIMIT",
    "EXPANSION_SEARCH",
    "FORMAT",
    "HNSW",
    "OVERLAP",
    "SEMANTIC_SCORE",
    "SemanticIndex",
    "VectorSpace",
    "insert",
    "mark_open_indexes_dirty",
    "new_graph",
    "quantize",
]
