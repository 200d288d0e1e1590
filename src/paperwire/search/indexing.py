"""`paperwire index`: bring every search index in line with the database.

Invariant: indexes are derived data. ``run_index`` can be interrupted (even by kill -9) and
rerun at any time; it converges to indexes that agree with the database.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from paperwire.config import Settings
    from paperwire.store.db import Database

log = logging.getLogger(__name__)


@dataclass
class IndexSummary:
    lexical_docs: int | None = None
    lexical_changed: int | None = None
    embedded: int = 0
    semantic: str = ""
    seconds: dict[str, float] = field(default_factory=dict)


def run_index(
    settings: Settings,
    db: Database,
    *,
    rebuild: bool = False,
    progress: bool = True,
    semantic: bool = True,
) -> IndexSummary:
    from paperwire.search.lexical import LexicalIndex

    summary = IndexSummary()
    t0 = time.perf_counter()
    lexical = LexicalIndex(settings, db)
    try:
        if rebuild:
            summary.lexical_docs = lexical.rebuild(progress=progress)
        else:
            lexical.ensure_open()  # builds it when missing or corrupt
            summary.lexical_changed = lexical.refresh(block=True)
            summary.lexical_docs = lexical.doc_count()
    finally:
        lexical.close()
    summary.seconds["lexical"] = time.perf_counter() - t0
    if not semantic:
        return summary
    t1 = time.perf_counter()
    from paperwire.search.embedding_jobs import embed_pending
    from paperwire.search.semantic import SemanticIndex

    summary.embedded = embed_pending(settings, db, progress=progress)
    summary.seconds["embed"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    index = SemanticIndex(settings, db)
    try:
        if rebuild:
            index.rebuild(progress)
            summary.semantic = "rebuilt"
        else:
            index.refresh()
            summary.semantic = "refreshed"
    finally:
        index.close()
    summary.seconds["semantic"] = time.perf_counter() - t2
    return summary
