"""What search is told after papers were committed, so it can pick them up at once.

Ingest does not import search (the layer contract in pyproject.toml): the entry points that
run an import, a harvest or a fetch pass ``announcer(settings, db)`` as ingest's
``on_change`` hook, and ingest calls it with the ids it added or changed.

Invariant: callable from any process (CLI, web, worker) right after the transaction that
added or changed ``paper_ids`` committed; it must never lose those papers even if it fails —
the indexes also follow ``papers.modified_at``, so this call only makes things faster.
It never raises: trouble with the embedding model is logged, and the background embedder
retries later.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from paperwire.config import Settings
    from paperwire.store.db import Database

log = logging.getLogger(__name__)

# Up to this many papers are embedded synchronously (about a second with the int8 model);
# larger imports are left to the background embedder so the caller is not held up.
SYNC_EMBED_LIMIT = 64


def announcer(settings: Settings, db: Database) -> Callable[[Sequence[str]], None]:
    """Ingest's ``on_change`` hook: ``papers_changed`` for these settings and database."""
    return functools.partial(papers_changed, settings, db)


def papers_changed(settings: Settings, db: Database, paper_ids: Sequence[str]) -> None:
    """Tell search that these papers were added or changed."""
    ids = list(dict.fromkeys(paper_ids))
    if not ids or len(ids) > SYNC_EMBED_LIMIT:
        return None
    try:
        from paperwire.search.embed import ModelNotReady, get_encoder
        from paperwire.search.embedding_jobs import embed_pending

        try:
            # Never the export itself (minutes on a first start): the caller is an import or
            # a submission, waiting; the background embedder catches up once the model exists.
            encoder = get_encoder(settings, export=False)
        except ModelNotReady:
            log.info(
                "the embedding model is not prepared yet; %d changed papers will be "
                "embedded when it is",
                len(ids),
            )
            return None
        written = embed_pending(settings, db, ids=ids, encoder=encoder)
    except Exception as exc:  # noqa: BLE001 - search trouble must not fail an import
        log.warning(
            "could not embed %d changed papers now (%s); the background embedder will retry",
            len(ids),
            exc,
        )
        return None
    if written:
        from paperwire.search.semantic import mark_open_indexes_dirty

        mark_open_indexes_dirty()
    return None
