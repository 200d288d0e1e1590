"""Embedding papers that need it: the resumable batch job and the background embedder.

Invariants:
- Each batch is embedded, then written and committed in its own short transaction: a crash or
  ``kill -9`` loses at most the batch in flight, and a rerun picks up exactly the papers that
  still have no (current) embedding — no duplicates, since rows are upserted by paper id.
- A paper's embedding, its sentence vectors (search/sentences.py) and its key sentence
  (summary/keysentence.py) are written in the same transaction, so a paper is never left with
  one and without the others.
- Several processes may run this against one database. A cross-process lock (PostgreSQL
  advisory lock; a file lock in DATA_DIR for SQLite) keeps them from embedding the same papers
  twice; if the lock is lost or bypassed, the upsert still leaves one correct row per paper.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from paperwire.search.embed import Encoder, ModelNotReady
from paperwire.search.sentences import sentence_texts
from paperwire.search.storage import ChangeCursor, NamedLock
from paperwire.store.embeddings import PendingPaper, papers_needing_embedding, save_embeddings
from paperwire.store.keysentences import save_key_sentences
from paperwire.store.models import utcnow
from paperwire.store.sentences import save_sentence_vectors
from paperwire.summary.keysentence import SCORER_VERSION
from paperwire.summary.refresh import PASS_BUDGET_SECONDS, backfill_if_needed
from paperwire.summary.refresh import for_batch as key_sentences_for_batch

log = logging.getLogger(__name__)

# Arbitrary constant naming Paperwire's embedder in pg_advisory_lock's key space (kept: a
# process of an earlier version must still be excluded).
_PG_LOCK_KEY = 0x70617065_72776972 & 0x7FFFFFFFFFFFFFFF
# A full pass (not only recently modified papers) runs this often, catching anything missed.
FULL_PASS_SECONDS = 600.0


@contextlib.contextmanager
def embedder_lock(settings: Any, db: Any, *, wait: bool) -> Iterator[bool]:
    """Hold the cross-process embedder lock; yields False when not acquired (wait=False)."""
    lock = NamedLock.shared(
        db, "embedder", lock_dir=Path(settings.data_dir) / "locks", pg_key=_PG_LOCK_KEY
    )
    with lock.hold(wait=wait) as got:
        yield got


def count_needing_embedding(
    db: Any, model_id: str, modified_since: dt.datetime | None = None
) -> int:
    from paperwire.store.embeddings import count_needing_embedding as count

    with db.session() as session:
        return count(session, model_id, modified_since, sentences=True)


def embed_pending(
    settings: Any,
    db: Any,
    *,
    progress: bool = False,
    batch: int = 256,
    limit: int | None = None,
    modified_since: dt.datetime | None = None,
    ids: Sequence[str] | None = None,
    encoder: Encoder | None = None,
    wait: bool = True,
    stop: threading.Event | None = None,
) -> int:
    """Embed papers lacking a current embedding; returns how many were written.

    ``wait=False`` returns 0 at once when another process holds the embedder lock.
    ``ids`` restricts the work to those papers and skips the lock (the synchronous path for
    a few papers; a duplicate with a concurrent batch job is harmless).
    """
    from paperwire.search.embed import get_encoder, paper_text

    encoder = encoder or get_encoder(settings)
    if ids is not None:
        return _embed_loop(
            db,
            encoder,
            paper_text,
            batch=batch,
            limit=limit,
            ids=list(ids),
            modified_since=None,
            progress=False,
            stop=stop,
        )
    with embedder_lock(settings, db, wait=wait) as got:
        if not got:
            log.debug("another process is embedding; skipping this pass")
            return 0
        # Papers embedded before key sentences existed (or by another scorer version) get
        # theirs from the stored vectors; one small read once done (summary/refresh.py).
        # Those embedded below get theirs in the same transaction as their vectors.
        backfill_if_needed(
            db,
            encoder.model_id,
            progress=progress,
            stop=stop,
            budget_seconds=None if progress else PASS_BUDGET_SECONDS,
        )
        return _embed_loop(
            db,
            encoder,
            paper_text,
            batch=batch,
            limit=limit,
            ids=None,
            modified_since=modified_since,
            progress=progress,
            stop=stop,
        )


def _embed_loop(
    db: Any,
    encoder: Encoder,
    paper_text: Callable[[str, str], str],
    *,
    batch: int,
    limit: int | None,
    ids: list[str] | None,
    modified_since: dt.datetime | None,
    progress: bool,
    stop: threading.Event | None,
) -> int:
    bar: Any = None
    if progress:
        from tqdm import tqdm

        total = count_needing_embedding(db, encoder.model_id, modified_since)
        if limit is not None:
            total = min(total, limit)
        bar = tqdm(total=total, desc="embedding papers", unit="paper", file=sys.stderr)
    written = 0
    cursor = ""
    started = time.monotonic()
    try:
        while limit is None or written < limit:
            if stop is not None and stop.is_set():
                break
            want = batch if limit is None else min(batch, limit - written)
            with db.session() as session:
                pending = papers_needing_embedding(
                    session,
                    encoder.model_id,
                    want,
                    after_id=cursor,
                    modified_since=modified_since,
                    ids=ids,
                    sentences=True,
                )
            if not pending:
                break
            cursor = pending[-1].id
            vectors, sentence_rows = _encode_batch(encoder, paper_text, pending)
            # One transaction for both: a crash cannot leave an embedding without its
            # sentence vectors (or the reverse); the next pass redoes the whole batch.
            with db.session() as session:
                written += save_embeddings(session, encoder.model_id, pending, vectors)
                save_sentence_vectors(
                    session, encoder.model_id, sentence_rows, dim=int(vectors.shape[1])
                )
                # The key sentence is chosen with these vectors, in the same transaction.
                save_key_sentences(
                    session,
                    key_sentences_for_batch(pending, vectors, sentence_rows),
                    SCORER_VERSION,
                )
            if bar is not None:
                bar.update(len(pending))
    finally:
        if bar is not None:
            bar.close()
    if progress:
        elapsed = time.monotonic() - started
        rate = written / elapsed if elapsed > 0 else 0.0
        print(
            f"embedded {written} papers in {elapsed:.1f} s ({rate:.1f}/s) with {encoder.model_id}",
            file=sys.stderr,
        )
    return written


def _encode_batch(
    encoder: Encoder, paper_text: Callable[[str, str], str], pending: Sequence[PendingPaper]
) -> tuple[np.ndarray, list[tuple[str, str, np.ndarray]]]:
    """Paper vectors (n, dim) and (paper id, content hash, "Title. Sentence" vectors) rows.

    One ``encode`` call for papers and sentences together, so the encoder's length-sorted
    batch plan packs the many short sentence texts densely."""
    texts = [paper_text(p.title, p.abstract) for p in pending]
    owners = []
    for p in pending:
        sents = sentence_texts(p.title, p.abstract)
        texts += sents
        owners.append(len(sents))
    vecs = encoder.encode(texts)
    n = len(pending)
    rows: list[tuple[str, str, np.ndarray]] = []
    start = n
    for p, count in zip(pending, owners):
        rows.append((p.id, p.content_hash, vecs[start : start + count]))
        start += count
    return vecs[:n], rows


class BackgroundEmbedder:
    """A daemon thread that embeds new and changed papers every ``interval`` seconds."""

    def __init__(
        self,
        settings: Any,
        db: Any,
        *,
        interval: float | None = None,
        encoder: Encoder | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.interval = float(interval if interval is not None else settings.index_refresh_seconds)
        self._encoder = encoder
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.passes = 0
        self.embedded = 0
        self.last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name="paperwire-embedder", daemon=True)

    def start(self) -> BackgroundEmbedder:
        self._thread.start()
        return self

    def wake(self) -> None:
        """Run the next pass now instead of at the end of the interval."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        last_full: float | None = None
        # Between full passes only papers modified after the cursor's watermark are looked
        # at; it trails the last pass's start by the shared overlap (a paper committed by
        # another process may carry an older modified_at: long transactions, clock skew).
        cursor = ChangeCursor()
        while not self._stop.is_set():
            pass_started = utcnow()
            full = last_full is None or time.monotonic() - last_full >= FULL_PASS_SECONDS
            try:
                n = embed_pending(
                    self.settings,
                    self.db,
                    encoder=self._encoder,
                    wait=False,
                    modified_since=None if full else cursor.watermark,
                    stop=self._stop,
                )
                self.embedded += n
                if n:
                    log.info("background embedder: embedded %d papers", n)
                if full:
                    last_full = time.monotonic()
                cursor.advance(pass_started)
                self.last_error = None
            except ModelNotReady as exc:
                # First start: the model is being prepared by another process; wait for it.
                self.last_error = str(exc)
                last_full = None
            except Exception as exc:  # noqa: BLE001 - keep the thread alive; log and retry
                if str(exc) != self.last_error:
                    log.exception("background embedder pass failed: %s", exc)
                self.last_error = str(exc)
                last_full = None  # the next pass covers everything again
            self.passes += 1
            self._wake.wait(self.interval)
            self._wake.clear()


def start_background_embedder(
    settings: Any, db: Any, *, interval: float | None = None, encoder: Encoder | None = None
) -> BackgroundEmbedder:
    """Start the background embedder thread; call ``.stop()`` on shutdown."""
    return BackgroundEmbedder(settings, db, interval=interval, encoder=encoder).start()
