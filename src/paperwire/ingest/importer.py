"""`paperwire import`: stream papers from dump files into the store.

Invariants:
- Constant memory: records are read one at a time and committed in batches of
  ``settings.import_batch_size``; nothing keeps a per-record list across batches. Big files
  are parsed by worker processes (``settings.import_workers``) while this process writes, in
  file order, with at most ``workers`` chunks waiting.
- Each batch is one transaction that also saves the file's resume point (byte offset and line
  after the batch). A run killed at any instant (even ``kill -9``) resumes at the last committed
  batch when rerun on the same unchanged file, and the upsert is idempotent, so the result is
  the same database an uninterrupted run gives. On PostgreSQL these batches commit without
  waiting for the WAL flush (``bulk_load_transaction``): only a crash of the database server
  can lose the last few, each together with its resume point, and a rerun redoes them; the
  final deletion of the resume point is an ordinary commit, so a finished import is durable.
- A malformed record is reported as ``FILE:LINE: field: reason`` and skipped; the rest
  imports. Every parser ends with the record schema (``ingest.schema``), so what is stored
  has the types, characters, URLs, dates and sizes pages, feeds, mails and indexes expect;
  an unexpected exception in a parser is reported the same way rather than ending the run.
- After each committed batch, the ``on_change`` hook the caller gave (if any) is told which
  papers changed (``items.PapersChanged``; the CLI passes search's announcer).
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from tqdm import tqdm

from paperwire.errors import BadInput
from paperwire.ingest.formats import PARSERS, detect_format
from paperwire.ingest.items import PapersChanged, RecordError, announce
from paperwire.ingest.reader import RecordFile, decode
from paperwire.store.checkpoints import delete_checkpoint, get_checkpoint, save_checkpoint
from paperwire.store.feed import add_feed_entry
from paperwire.store.models import utcnow
from paperwire.store.papers import (
    bulk_load_transaction,
    prepare_paper,
    tune_for_bulk_load,
    upsert_prepared,
)

log = logging.getLogger(__name__)

# Rejection messages kept in the summary (all of them go to the error callback).
_KEEP_ERRORS = 50
# Below this size a file is parsed in the importing process (forking costs more than it saves).
_PARALLEL_MIN_BYTES = 16 << 20


@dataclass
class ImportSummary:
    files: int = 0
    records: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    feed_added: int = 0
    resumed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, other: ImportSummary) -> None:
        for name in ("files", "records", "new", "updated", "unchanged", "rejected", "feed_added"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.resumed += other.resumed
        self.errors = (self.errors + other.errors)[:_KEEP_ERRORS]

    def counts(self) -> dict[str, int]:
        return {
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "feed_added": self.feed_added,
            "records": self.records,
        }

    def line(self) -> str:
        text = (
            f"new {self.new}, updated {self.updated}, unchanged {self.unchanged}, "
            f"rejected {self.rejected}"
        )
        if self.feed_added:
            text += f", feed entries added {self.feed_added}"
        return text


ErrorSink = Callable[[str], None]


def _stderr_sink(message: str) -> None:
    tqdm.write(message, file=sys.stderr)


def import_paths(
    settings,
    db,
    paths: Iterable[str | Path],
    fmt: str = "auto",
    *,
    progress: bool = True,
    on_error: ErrorSink = _stderr_sink,
    batch_size: int | None = None,
    on_change: PapersChanged | None = None,
) -> ImportSummary:
    """Import several files one after another; returns the combined summary."""
    total = ImportSummary()
    for path in paths:
        total.add(
            import_file(
                settings,
                db,
                path,
                fmt,
                progress=progress,
                on_error=on_error,
                batch_size=batch_size,
                on_change=on_change,
            )
        )
    return total


class _Chunk(NamedTuple):
    entries: list  # [(line number, raw bytes or decoded value)]
    decoded: bool  # entries hold decoded JSON values (arrays), not raw lines
    offset: int | None  # resume point after the chunk (JSON Lines only)
    line: int
    position: int  # file bytes consumed when the chunk was read (progress)


class _Prepared(NamedTuple):
    papers: list  # [PreparedPaper]
    feeds: list  # [(paper id, FeedInfo)]
    errors: list  # [(line number, reason)]


def _prepare_chunk(fmt: str, dialect: str, entries: list, decoded: bool) -> _Prepared:
    """Decode, parse and prepare one chunk. Pure, so it can run in a worker process."""
    parser = PARSERS[fmt]
    now = utcnow()
    papers, feeds, errors = [], [], []
    for line_no, value in entries:
        try:
            item = parser(value if decoded else decode(value))
            paper = prepare_paper(item.record, dialect, now)
        except RecordError as exc:
            errors.append((line_no, str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - one record must never abort an import
            # A parser bug, not bad data (parsers raise RecordError for that): report it like
            # a bad record, with the traceback in the log, and import the rest.
            log.exception("line %d: unexpected error while parsing", line_no)
            errors.append(
                (
                    line_no,
                    f"record: unexpected error ({type(exc).__name__}: "
                    f"{str(exc)[:200]}); please report this",
                )
            )
            continue
        papers.append(paper)
        if item.feed is not None:
            feeds.append((item.record.id, item.feed))
    return _Prepared(papers, feeds, errors)


def _chunks(rf: RecordFile, start_offset: int, start_line: int, size: int) -> Iterator[_Chunk]:
    entries: list = []
    offset, line = start_offset, start_line
    source = rf.records() if rf.is_array else rf.raw_lines(start_offset, start_line)
    for raw in source:
        entries.append((raw.line, raw.value))
        line = raw.line
        if raw.offset is not None:
            offset = raw.offset
        if len(entries) >= size:
            yield _Chunk(entries, rf.is_array, None if rf.is_array else offset, line, rf.position())
            entries = []
    yield _Chunk(entries, rf.is_array, None if rf.is_array else offset, line, rf.position())


def _exit_with_parent(parent: int) -> None:
    """Worker initializer: end this parser process when the importer is gone.

    A pool's workers wait on a pipe they hold both ends of, so a ``kill -9`` of the importer
    would leave them waiting forever; a watchdog thread ends them instead."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


def worker_count(settings, size: int) -> int:
    """Parser processes for a file of ``size`` bytes (0: parse in this process)."""
    if settings.import_workers >= 0:
        return settings.import_workers
    # Auto: worth the fork only for big files, and only with a second core to run on.
    cores = os.cpu_count() or 1
    return min(cores, 4) if cores > 1 and size >= _PARALLEL_MIN_BYTES else 0


def import_file(
    settings,
    db,
    path: str | Path,
    fmt: str = "auto",
    *,
    progress: bool = True,
    on_error: ErrorSink = _stderr_sink,
    batch_size: int | None = None,
    resume: bool = True,
    on_change: PapersChanged | None = None,
) -> ImportSummary:
    if fmt != "auto" and fmt not in PARSERS:
        raise BadInput(f"unknown format {fmt!r}; choose one of auto, {', '.join(PARSERS)}")
    batch_size = batch_size or settings.import_batch_size
    summary = ImportSummary(files=1)
    with RecordFile(path) as rf:
        ckpt_name, identity = _checkpoint_identity(rf)
        start_offset = start_line = 0
        if resume and not rf.is_array:
            with db.session() as session:
                saved = get_checkpoint(session, ckpt_name)
            if saved and saved.get("identity") == identity:
                start_offset, start_line = saved["offset"], saved["line"]
                fmt = saved.get("format", fmt)
                for name, value in saved.get("counts", {}).items():
                    if hasattr(summary, name) and name != "files":
                        setattr(summary, name, value)
                summary.resumed.append(f"{rf.name}:{start_line}")
                log.info(
                    "resuming %s after line %d (an earlier import stopped there)",
                    rf.name,
                    start_line,
                )
        if fmt == "auto":
            first = rf.first_value()
            if first is None:
                if rf.has_content():
                    raise BadInput(
                        f"{rf.name}: cannot detect the format: no line is valid "
                        "JSON; pass --format to see each line's error"
                    )
                log.info("%s: no records", rf.name)
                return summary
            fmt = detect_format(first, rf.name)
        bar = tqdm(
            total=rf.size,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=Path(rf.name).name[:30],
            file=sys.stderr,
            disable=not progress,
            dynamic_ncols=True,
            mininterval=0.5,
        )
        shown = 0
        workers = 0 if rf.is_array else worker_count(settings, rf.size - start_offset)
        dialect = db.dialect
        if rf.size - start_offset >= _PARALLEL_MIN_BYTES:
            tune_for_bulk_load(db)

        def finish(chunk: _Chunk, prepared: _Prepared) -> None:
            nonlocal shown
            for line_no, reason in prepared.errors:
                _reject(summary, on_error, f"{rf.name}:{line_no}: {reason}")
            checkpoint = None
            if chunk.offset is not None:
                checkpoint = (
                    ckpt_name,
                    {
                        "identity": identity,
                        "format": fmt,
                        "offset": chunk.offset,
                        "line": chunk.line,
                    },
                )
            _commit(db, prepared, summary, checkpoint, on_change)
            bar.update(chunk.position - shown)
            shown = chunk.position

        chunks = _chunks(rf, start_offset, start_line, batch_size)
        if workers == 0:
            for chunk in chunks:
                finish(chunk, _prepare_chunk(fmt, dialect, chunk.entries, chunk.decoded))
        else:
            # Parsing runs in worker processes while this one writes, in file order. At most
            # workers + 1 chunks wait, which bounds memory.
            context = multiprocessing.get_context("fork")
            pending: deque = deque()
            with ProcessPoolExecutor(
                workers, mp_context=context, initializer=_exit_with_parent, initargs=(os.getpid(),)
            ) as pool:
                try:
                    for chunk in chunks:
                        future = pool.submit(
                            _prepare_chunk, fmt, dialect, chunk.entries, chunk.decoded
                        )
                        pending.append((chunk._replace(entries=[]), future))
                        while len(pending) > workers:
                            done, fut = pending.popleft()
                            finish(done, fut.result())
                    while pending:
                        done, fut = pending.popleft()
                        finish(done, fut.result())
                except BaseException:
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
        bar.close()
        if not rf.is_array:
            with db.session() as session:
                delete_checkpoint(session, ckpt_name)
    return summary


def _reject(summary: ImportSummary, on_error: ErrorSink, message: str) -> None:
    summary.rejected += 1
    if len(summary.errors) < _KEEP_ERRORS:
        summary.errors.append(message)
    on_error(message)


def _commit(
    db,
    prepared: _Prepared,
    summary: ImportSummary,
    checkpoint: tuple[str, dict] | None,
    on_change: PapersChanged | None,
) -> None:
    """One transaction: the papers, their feed entries and the resume point; then the
    changed papers are announced."""
    if not prepared.papers and checkpoint is None:
        return
    with db.session() as session:
        if checkpoint is not None:
            # Resumable batch: it may commit without waiting for the WAL flush (see
            # bulk_load_transaction); the final checkpoint deletion flushes it.
            bulk_load_transaction(session)
        result = upsert_prepared(session, prepared.papers)
        added = 0
        for paper_id, feed in prepared.feeds:
            _, created = add_feed_entry(
                session,
                paper_id,
                feed.day,
                submitted_by_name=feed.submitted_by_name,
                submitted_at=feed.submitted_at,
            )
            added += created
        summary.records += len(prepared.papers)
        summary.new += result.new
        summary.updated += result.updated
        summary.unchanged += result.unchanged
        summary.feed_added += added
        if checkpoint is not None:
            name, value = checkpoint
            value["counts"] = summary.counts()
            save_checkpoint(session, name, value)
    announce(on_change, result.new_ids + result.updated_ids)


def _checkpoint_identity(rf: RecordFile) -> tuple[str, dict]:
    """Checkpoint name for this path and what must match to resume (same size and mtime)."""
    real = os.path.realpath(rf.path)
    stat = os.stat(real)
    name = "import:" + hashlib.sha1(real.encode("utf-8")).hexdigest()[:20]
    return name, {"path": real, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
