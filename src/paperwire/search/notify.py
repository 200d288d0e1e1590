"""The one call ingestion makes after committing papers, so search can pick them up.

Invariant: callable from any process (CLI, web, worker) right after the transaction that
added or changed ``paper_ids`` committed; it must never lose those papers even if it fails —
the indexes also follow ``papers.modified_at``, so this call only makes things faster.
"""

from __future__ import annotations

from typing import Sequence


def papers_changed(settings, db, paper_ids: Sequence[str]) -> None:
    """Tell search that these papers were added or changed (filled in by the search area)."""
    return None
