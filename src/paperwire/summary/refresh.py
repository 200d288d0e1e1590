"""Keeping the stored key sentences current (``papers.key_sentence``).

Invariants:
- The embedder writes a paper's key sentence in the transaction that writes its embedding and
  sentence vectors (``for_batch``, called from ``embedding_jobs``), so a paper embedded by
  this version never shows a rule-chosen sentence once its vectors exist.
- Papers whose vectors were stored before key sentences existed, or by another scorer
  version, are caught up from the stored vectors (no model needed) by ``backfill``: batches
  in id order, each committed on its own; a rerun redoes only what is still stale. The
  embedder's periodic pass gives it a time budget (``PASS_BUDGET_SECONDS``), so new papers
  are not held up by an upgrade's backlog. When it completes it records the (model, scorer)
  in the ``key_sentences`` checkpoint, so later passes cost one small read.
- Nothing here changes ``modified_at``: search indexes do not depend on the key sentence.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence

import numpy as np

from paperwire.store.checkpoints import get_checkpoint, save_checkpoint
from paperwire.store.db import Database
from paperwire.store.embeddings import get_embeddings
from paperwire.store.keysentences import papers_text, save_key_sentences, stale_key_sentence_ids
from paperwire.store.sentences import get_sentence_vectors
from paperwire.summary.keysentence import SCORER_VERSION, pick

CHECKPOINT = "key_sentences"
# The embedder's periodic pass spends at most about this long catching up (a 1M-paper upgrade
# takes ~25 min of one core at ~1.4 ms a paper, bench/keysentence.py); the CLI has no limit.
PASS_BUDGET_SECONDS = 20.0


def for_batch(
    pending: Sequence,
    paper_vectors: np.ndarray,
    sentence_rows: Sequence[tuple[str, str, np.ndarray]],
) -> list[tuple[str, str, str | None]]:
    """(paper id, content hash, key sentence or None) for a batch the embedder just encoded
    (``pending`` and ``sentence_rows`` in the same order, ``paper_vectors`` row per paper)."""
    out = []
    for paper, vec, (pid, chash, svecs) in zip(pending, paper_vectors, sentence_rows):
        chosen = pick(paper.abstract, svecs, vec)
        out.append((pid, chash, chosen.text if chosen else None))
    return out


def backfill(
    db: Database,
    model_id: str,
    *,
    batch: int = 500,
    progress: bool = False,
    stop: threading.Event | None = None,
    budget_seconds: float | None = None,
) -> int:
    """Choose and store the key sentence of every paper with current vectors but no current
    key sentence; returns how many were written. Records the checkpoint when it finishes.

    ``budget_seconds``: stop after the batch that exceeds it (the embedder's periodic pass
    must not spend an upgrade's hours at once; what is left is still stale and is taken up by
    the next pass, and shown by the rule meanwhile). None: run to the end."""
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(desc="key sentences", unit="paper", file=sys.stderr)
    written, cursor = 0, ""
    started = time.monotonic()
    try:
        while True:
            if stop is not None and stop.is_set():
                return written
            with db.session() as session:
                ids = stale_key_sentence_ids(
                    session, model_id, SCORER_VERSION, after_id=cursor, limit=batch
                )
                if not ids:
                    break
                cursor = ids[-1]
                texts = papers_text(session, ids)
                paper_vecs = get_embeddings(session, model_id, ids)
                sent_vecs = get_sentence_vectors(session, model_id, ids)
                rows = []
                for pid in ids:
                    if pid not in texts:
                        continue
                    _title, abstract, chash = texts[pid]
                    chosen = pick(abstract, sent_vecs.get(pid), paper_vecs.get(pid))
                    rows.append((pid, chash, chosen.text if chosen else None))
                written += save_key_sentences(session, rows, SCORER_VERSION)
            if bar is not None:
                bar.update(len(ids))
            if budget_seconds is not None and time.monotonic() - started >= budget_seconds:
                return written
        with db.session() as session:
            save_checkpoint(session, CHECKPOINT, {"model": model_id, "scorer": SCORER_VERSION})
    finally:
        if bar is not None:
            bar.close()
    return written


def backfill_if_needed(db: Database, model_id: str, **kwargs) -> int:
    """``backfill`` unless it already completed for this model and scorer version."""
    with db.session() as session:
        done = get_checkpoint(session, CHECKPOINT)
    if done == {"model": model_id, "scorer": SCORER_VERSION}:
        return 0
    return backfill(db, model_id, **kwargs)


__all__ = ["CHECKPOINT", "PASS_BUDGET_SECONDS", "for_batch", "backfill", "backfill_if_needed"]
