"""Papers: batched idempotent upsert and the reads every area needs.

Invariants of ``upsert_papers``:
- Importing the same records twice changes nothing the second time (all ``unchanged``).
- A record with an older ``version`` than the stored one never overwrites it; records without
  a version number are compared by ``updated_at`` (see ``may_replace``).
- Community data (upvotes, comments, feed entries, ``hidden``) is never touched; only
  ``imported_upvotes`` moves when a source brings a different count, and ``upvotes`` moves by
  the same difference.
- ``modified_at`` is bumped whenever metadata changes, which is what the search indexes follow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from paperwire.ingest.records import METADATA_FIELDS, PaperRecord
from paperwire.store.models import Paper, utcnow

# Keeps each SELECT ... IN (...) well under SQLite's variable limit.
_LOOKUP_CHUNK = 900


@dataclass
class UpsertResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    new_ids: list[str] = field(default_factory=list)
    updated_ids: list[str] = field(default_factory=list)

    def add(self, other: "UpsertResult") -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.new_ids += other.new_ids
        self.updated_ids += other.updated_ids


def _existing(session: Session, ids: Sequence[str]) -> dict[str, tuple]:
    found: dict[str, tuple] = {}
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        chunk = ids[start:start + _LOOKUP_CHUNK]
        rows = session.execute(
            select(Paper.id, Paper.content_hash, Paper.version, Paper.imported_upvotes,
                   Paper.updated_at)
            .where(Paper.id.in_(chunk)))
        for pid, chash, version, imported, updated in rows:
            found[pid] = (chash, version, imported, updated)
    return found


def may_replace(new_version: int | None, new_updated: dt.datetime | None,
                old_version: int | None, old_updated: dt.datetime | None) -> bool:
    """May metadata with (new_version, new_updated) replace the stored one?

    Versions decide when both are known (the same version may refresh the metadata). Sources
    without version numbers (OAI-PMH, Daily Papers, seed) are judged by their update date: they
    replace a versioned record only when strictly newer (OAI gives dates without time), and a
    versioned record replaces an unversioned one unless it is older.
    """
    if new_version is not None and old_version is not None:
        return new_version >= old_version
    if old_version is None:
        if new_updated is not None and old_updated is not None:
            return new_updated >= old_updated
        return True
    return new_updated is not None and old_updated is not None and new_updated > old_updated


def upsert_papers(session: Session, records: Iterable[PaperRecord]) -> UpsertResult:
    """Insert new papers and update changed ones, in the caller's transaction."""
    # Last record wins when a batch names the same id twice (a dump listing two versions).
    by_id: dict[str, PaperRecord] = {}
    for rec in records:
        prev = by_id.get(rec.id)
        if prev is None or (rec.version or 0) >= (prev.version or 0):
            by_id[rec.id] = rec
    result = UpsertResult()
    if not by_id:
        return result
    existing = _existing(session, list(by_id))
    now = utcnow()
    inserts, updates = [], []
    for pid, rec in by_id.items():
        chash = rec.content_hash()
        row = existing.get(pid)
        if row is None:
            values = rec.metadata()
            values.update(content_hash=chash, imported_upvotes=rec.imported_upvotes or 0,
                          upvotes=rec.imported_upvotes or 0, num_comments=0, hidden=False,
                          created_at=now, modified_at=now)
            inserts.append(values)
            result.new_ids.append(pid)
            continue
        old_hash, old_version, old_imported, old_updated = row
        metadata_changed = old_hash != chash and may_replace(rec.version, rec.updated_at,
                                                             old_version, old_updated)
        votes_changed = (rec.imported_upvotes is not None
                         and rec.imported_upvotes != old_imported)
        if not metadata_changed and not votes_changed:
            result.unchanged += 1
            continue
        updates.append((pid, rec, chash, metadata_changed, votes_changed, old_imported))
        result.updated_ids.append(pid)
    if inserts:
        session.execute(Paper.__table__.insert(), inserts)
    for pid, rec, chash, metadata_changed, votes_changed, old_imported in updates:
        values: dict = {}
        if metadata_changed:
            values.update(rec.metadata())
            values.pop("id")
            values.update(content_hash=chash, modified_at=now)
        if votes_changed:
            delta = rec.imported_upvotes - old_imported
            values.update(imported_upvotes=rec.imported_upvotes,
                          upvotes=Paper.upvotes + delta)
        session.execute(update(Paper).where(Paper.id == pid).values(**values))
    result.new = len(result.new_ids)
    result.updated = len(result.updated_ids)
    return result


def get_paper(session: Session, paper_id: str) -> Paper | None:
    return session.get(Paper, paper_id)


def get_papers(session: Session, ids: Sequence[str]) -> dict[str, Paper]:
    """Papers by id in one query per chunk (no N+1 for result lists)."""
    found: dict[str, Paper] = {}
    ids = list(dict.fromkeys(ids))
    for start in range(0, len(ids), _LOOKUP_CHUNK):
        chunk = ids[start:start + _LOOKUP_CHUNK]
        for paper in session.scalars(select(Paper).where(Paper.id.in_(chunk))):
            found[paper.id] = paper
    return found


def count_papers(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Paper)) or 0


def iter_papers(session: Session, batch_size: int = 1000,
                modified_after: dt.datetime | None = None) -> Iterator[list[Paper]]:
    """All papers in id order, in batches (keyset pagination: constant memory)."""
    last_id = ""
    while True:
        query = select(Paper).where(Paper.id > last_id).order_by(Paper.id).limit(batch_size)
        if modified_after is not None:
            query = query.where(Paper.modified_at > modified_after)
        batch = list(session.scalars(query))
        if not batch:
            return
        yield batch
        last_id = batch[-1].id
        session.expunge_all()


def paper_to_record(paper: Paper) -> PaperRecord:
    """The PaperRecord a stored paper was made from (lossless for METADATA_FIELDS)."""
    values = {name: getattr(paper, name) for name in METADATA_FIELDS}
    return PaperRecord(imported_upvotes=paper.imported_upvotes, **values)


def iter_export_rows(session: Session, batch_size: int = 2000) -> Iterator[list[tuple]]:
    """(Paper, feed day, submitter name, submitted at) for all papers in id order, in batches.

    The submitter name is the imported name or, for local submitters, their username, so an
    export re-imports into another database without needing its users."""
    from paperwire.store.models import FeedEntry, User

    last_id = ""
    while True:
        query = (select(Paper, FeedEntry.day,
                        func.coalesce(FeedEntry.submitted_by_name, User.username),
                        FeedEntry.submitted_at)
                 .outerjoin(FeedEntry, FeedEntry.paper_id == Paper.id)
                 .outerjoin(User, User.id == FeedEntry.submitted_by)
                 .where(Paper.id > last_id).order_by(Paper.id).limit(batch_size))
        batch = [tuple(row) for row in session.execute(query)]
        if not batch:
            return
        yield batch
        last_id = batch[-1][0].id
        session.expunge_all()
