"""`paperwire import`: stream papers from dump files into the store.

Invariants:
- Constant memory: records are read one at a time and committed in batches of
  ``settings.import_batch_size``; nothing keeps a per-record list across batches.
- Each batch is one transaction that also saves the file's resume point (byte offset and line
  after the batch). A run killed at any instant (even ``kill -9``) resumes at the last committed
  batch when rerun on the same unchanged file, and the upsert is idempotent, so the result is
  the same database an uninterrupted run gives.
- A malformed record is reported as ``FILE:LINE: reason`` and skipped; the rest imports.
- After each committed batch, search is told which papers changed (``papers_changed``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from tqdm import tqdm

from paperwire.errors import BadInput
from paperwire.ingest.formats import PARSERS, detect_format
from paperwire.ingest.items import Item, RecordError
from paperwire.ingest.reader import RecordFile
from paperwire.store.checkpoints import delete_checkpoint, get_checkpoint, save_checkpoint
from paperwire.store.feed import add_feed_entry
from paperwire.store.papers import upsert_papers

log = logging.getLogger(__name__)

# Rejection messages kept in the summary (all of them go to the error callback).
_KEEP_ERRORS = 50


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

    def add(self, other: "ImportSummary") -> None:
        for name in ("files", "records", "new", "updated", "unchanged", "rejected",
                     "feed_added"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.resumed += other.resumed
        self.errors = (self.errors + other.errors)[:_KEEP_ERRORS]

    def counts(self) -> dict[str, int]:
        return {"new": self.new, "updated": self.updated, "unchanged": self.unchanged,
                "rejected": self.rejected, "feed_added": self.feed_added,
                "records": self.records}

    def line(self) -> str:
        text = (f"new {self.new}, updated {self.updated}, unchanged {self.unchanged}, "
                f"rejected {self.rejected}")
        if self.feed_added:
            text += f", feed entries added {self.feed_added}"
        return text


ErrorSink = Callable[[str], None]


def _stderr_sink(message: str) -> None:
    tqdm.write(message, file=sys.stderr)


def import_paths(settings, db, paths: Iterable[str | Path], fmt: str = "auto", *,
                 progress: bool = True, on_error: ErrorSink = _stderr_sink,
                 batch_size: int | None = None) -> ImportSummary:
    """Import several files one after another; returns the combined summary."""
    total = ImportSummary()
    for path in paths:
        total.add(import_file(settings, db, path, fmt, progress=progress, on_error=on_error,
                              batch_size=batch_size))
    return total


def import_file(settings, db, path: str | Path, fmt: str = "auto", *, progress: bool = True,
                on_error: ErrorSink = _stderr_sink, batch_size: int | None = None,
                resume: bool = True) -> ImportSummary:
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
                log.info("resuming %s after line %d (an earlier import stopped there)",
                         rf.name, start_line)
        parser = PARSERS.get(fmt)
        bar = tqdm(total=rf.size, unit="B", unit_scale=True, unit_divisor=1024,
                   desc=Path(rf.name).name[:30], file=sys.stderr, disable=not progress,
                   dynamic_ncols=True, mininterval=0.5)
        bar.update(rf.position() if start_offset else 0)
        items: list[Item] = []
        last_offset, last_line = start_offset, start_line
        shown = bar.n

        def flush() -> None:
            nonlocal items, shown
            checkpoint = None
            if not rf.is_array:
                checkpoint = (ckpt_name, {"identity": identity, "format": fmt,
                                          "offset": last_offset, "line": last_line,
                                          "counts": summary.counts()})
            _commit(settings, db, items, summary, checkpoint)
            items = []
            position = rf.position()
            bar.update(position - shown)
            shown = position

        if True:
            for raw in rf.records(start_offset, start_line):
                if isinstance(raw.value, RecordError):
                    _reject(summary, on_error, f"{rf.name}:{raw.line}: {raw.value}")
                else:
                    if parser is None:
                        fmt = detect_format(raw.value, rf.name)
                        parser = PARSERS[fmt]
                    try:
                        items.append(parser(raw.value))
                    except RecordError as exc:
                        _reject(summary, on_error, f"{rf.name}:{raw.line}: {exc}")
                if raw.offset is not None:
                    last_offset, last_line = raw.offset, raw.line
                if len(items) >= batch_size:
                    flush()
            flush()
        bar.close()
        if not rf.is_array:
            with db.session() as session:
                delete_checkpoint(session, ckpt_name)
    if parser is None and summary.records == 0 and summary.rejected == 0:
        log.info("%s: no records", path)
    return summary


def _reject(summary: ImportSummary, on_error: ErrorSink, message: str) -> None:
    summary.rejected += 1
    if len(summary.errors) < _KEEP_ERRORS:
        summary.errors.append(message)
    on_error(message)


def _commit(settings, db, items: list[Item], summary: ImportSummary,
            checkpoint: tuple[str, dict] | None) -> None:
    """One transaction: the papers, their feed entries and the resume point."""
    from paperwire.search.notify import papers_changed

    if not items and checkpoint is None:
        return
    with db.session() as session:
        result = upsert_papers(session, (item.record for item in items))
        added = 0
        for item in items:
            if item.feed is not None:
                _, created = add_feed_entry(session, item.record.id, item.feed.day,
                                            submitted_by_name=item.feed.submitted_by_name,
                                            submitted_at=item.feed.submitted_at)
                added += created
        summary.records += len(items)
        summary.new += result.new
        summary.updated += result.updated
        summary.unchanged += result.unchanged
        summary.feed_added += added
        if checkpoint is not None:
            name, value = checkpoint
            value["counts"] = summary.counts()
            save_checkpoint(session, name, value)
    changed = result.new_ids + result.updated_ids
    if changed:
        try:
            papers_changed(settings, db, changed)
        except Exception:  # noqa: BLE001 - search catches up from modified_at anyway
            log.exception("search notification failed; indexes will catch up later")


def _checkpoint_identity(rf: RecordFile) -> tuple[str, dict]:
    """Checkpoint name for this path and what must match to resume (same size and mtime)."""
    real = os.path.realpath(rf.path)
    stat = os.stat(real)
    name = "import:" + hashlib.sha1(real.encode("utf-8")).hexdigest()[:20]
    return name, {"path": real, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
