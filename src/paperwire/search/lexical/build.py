"""Writing the index: a whole generation from the database (rebuild), or the papers changed
since the watermark folded into the live one (refresh).

Invariants: callers hold the writer lock (``NamedLock`` on ``.lock``); both passes read
their change feed through a ``ChangeCursor`` started *before* their first query, so a paper
committed meanwhile is after the cursor's watermark (or remembered as folded) and is either
in the delta of every search or in the index, never lost between the two.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tantivy

from paperwire.search import analyzer
from paperwire.search.lexical import documents
from paperwire.search.lexical.documents import PAIR_SAMPLE, body_text, frequent_stems, register
from paperwire.search.lexical.files import State
from paperwire.search.storage import ChangeCursor
from paperwire.store import search as store
from paperwire.store.db import Database

LENGTH_SAMPLE = 5000
WRITER_HEAP_BYTES = 1_000_000_000
REFRESH_HEAP_BYTES = 50_000_000
REFRESH_BATCH = 2000


def build_generation(
    db: Database,
    schema: tantivy.Schema,
    path: Path,
    started: dt.datetime,
    progress: bool | Callable[..., Any],
) -> tuple[int, State]:
    """Index every visible paper into a new tantivy folder ``path``; returns the number of
    papers and the generation's state (the caller writes it as state.json). ``started``:
    when the caller began, before any read."""
    from tqdm import tqdm

    path.mkdir(parents=True)
    index = tantivy.Index(schema, path=str(path), reuse=False)
    register(index)
    # One indexing thread with a large memory budget: documents are made in Python on
    # this thread (the bottleneck), and every flush of the budget is a segment; few
    # big segments search faster than many small ones (each segment runs its own
    # top-k) and tantivy only merges once 8 segments of a size class exist.
    writer = index.writer(heap_size=WRITER_HEAP_BYTES, num_threads=1)
    lengths = {"title": 0, "body": 0, "authors": 0}
    cursor = ChangeCursor()
    horizon = started - cursor.overlap  # the watermark the cursor will have
    recent: list[tuple[str, dt.datetime]] = []
    n = n_sampled = 0
    with db.session() as session:
        total = store.visible_count(session)
        pair_list = frequent_stems(store.sample_texts(session, PAIR_SAMPLE))
        pair_stems = frozenset(pair_list)
        bar = tqdm(total=total, desc="lexical index", unit="paper", disable=not progress, file=None)
        for batch in store.iter_index_rows(session):
            for row in batch:
                # Looked up at call time (a test slows it down to kill a build midway).
                writer.add_document(documents.make_document(row, pair_stems))
                if n_sampled < LENGTH_SAMPLE:
                    # Average field lengths (in index tokens) for the Python scorer,
                    # from a sample: analyzing every paper twice would double the
                    # build time.
                    n_sampled += 1
                    lengths["title"] += len(analyzer.stems(row.title))
                    lengths["body"] += len(analyzer.stems(body_text(row.title, row.abstract)))
                    lengths["authors"] += len(analyzer.words(analyzer.author_text(row.authors)))
                if row.modified_at > horizon:
                    recent.append((row.id, row.modified_at))
            n += len(batch)
            bar.update(len(batch))
        bar.close()
    writer.commit()
    writer.wait_merging_threads()
    cursor.advance(started, recent)
    state = State.built(
        cursor,
        built_at=started,
        docs=n,
        avg_len={k: (max(v / n_sampled, 1.0) if n_sampled else 1.0) for k, v in lengths.items()},
        pair_stems=pair_list,
    )
    return n, state


def fold_changes(
    db: Database,
    index: tantivy.Index,
    cursor: ChangeCursor,
    pair_stems: frozenset[str],
) -> tuple[int, dict[str, dt.datetime], bool]:
    """Replace the index copies of papers modified after the cursor's watermark by their
    current version (hidden or deleted papers: removed), except those the cursor knows were
    folded at that very version (a refresh re-reads the whole overlap window; re-folding it
    committed on every tick, and a commit is what tells the result cache that answers may
    have changed). Returns the number of rows read, the (id, modified_at) of those folded,
    and whether anything was committed."""
    changed = 0
    writer: tantivy.IndexWriter | None = None
    folded: dict[str, dt.datetime] = {}
    with db.session() as session:
        ids = [pid for pid, _ in cursor.pending(store.modified_since(session, cursor.watermark))]
        for start in range(0, len(ids), REFRESH_BATCH):
            rows = store.index_rows(session, ids[start : start + REFRESH_BATCH])
            if writer is None:
                writer = index.writer(heap_size=REFRESH_HEAP_BYTES, num_threads=1)
            seen: set[str] = set()
            for row in rows:
                seen.add(row.id)
                folded[row.id] = row.modified_at
                writer.delete_documents_by_term("id", row.id)
                if not row.hidden:
                    writer.add_document(documents.make_document(row, pair_stems))
            # Deleted rows (gone from the DB) disappear from the index too.
            for pid in set(ids[start : start + REFRESH_BATCH]) - seen:
                writer.delete_documents_by_term("id", pid)
            changed += len(rows)
    if writer is not None:
        writer.commit()
        writer.wait_merging_threads()
    return changed, folded, writer is not None
