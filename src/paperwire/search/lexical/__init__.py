"""Lexical (BM25) search: a tantivy index on disk plus the not-yet-indexed papers from the DB.

Scores are BM25 sums over the title, body (title + abstract) and author fields, weighted by
weights.py, plus a small constant for prefix-only matches; higher is better.

Modules: ``index`` (``LexicalIndex``: opening, rebuild/refresh, the delta, queries),
``documents`` (the tantivy schema, a paper's document, phrase pairs), ``compiler`` (parsed
query -> ``CompiledQuery`` -> tantivy query), ``weights`` (field boosts both scorers read),
``delta`` (papers changed after the watermark, analyzed and cached), ``scoring`` (BM25 of
delta papers in Python), ``ranking`` (index hits and the delta merged into answers),
``files`` (a generation on disk and its state.json), ``build`` (writing a generation, folding
changes into it).
"""

from paperwire.search.lexical.compiler import CompiledQuery, compile_query, tantivy_query
from paperwire.search.lexical.delta import MAX_DELTA, DeltaDoc
from paperwire.search.lexical.documents import (
    SCHEMA_VERSION,
    body_text,
    build_schema,
    doc_pairs,
    frequent_stems,
    make_document,
    pair_token,
    phrase_pairs,
    register,
)
from paperwire.search.lexical.files import Unavailable
from paperwire.search.lexical.index import LexicalIndex
from paperwire.search.lexical.ranking import LexicalResult
from paperwire.search.lexical.scoring import Stats, score_delta
from paperwire.search.storage import OVERLAP

__all__ = [
    "MAX_DELTA",
    "OVERLAP",
    "SCHEMA_VERSION",
    "CompiledQuery",
    "DeltaDoc",
    "LexicalIndex",
    "LexicalResult",
    "Stats",
    "Unavailable",
    "body_text",
    "build_schema",
    "compile_query",
    "doc_pairs",
    "frequent_stems",
    "make_document",
    "pair_token",
    "phrase_pairs",
    "register",
    "score_delta",
    "tantivy_query",
]
