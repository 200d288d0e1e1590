"""The job ledger (``job_runs``): who ran which unit of work, when, and how it ended.

Invariants:
- (name, key) is unique: of several workers racing for the same unit, exactly one wins
  ``start``; the others get None and skip it.
- A failed run may be started again (attempts + 1) up to ``max_attempts``; a ``running`` row
  is only taken over when it is older than ``stale_after`` (its worker died).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from paperwire.store.db import flush_unique, rowcount
from paperwire.store.models import JobRun, utcnow


def start(
    session: Session,
    name: str,
    key: str,
    worker: str,
    *,
    max_attempts: int = 5,
    stale_after: dt.timedelta = dt.timedelta(hours=3),
) -> int | None:
    """Claim (name, key); returns the run id, or None when it is done or owned elsewhere."""
    now = utcnow()
    run = JobRun(name=name, key=key, status="running", worker=worker, attempts=1, started_at=now)
    if flush_unique(session, run):
        return run.id
    row = session.execute(
        select(JobRun.id, JobRun.status, JobRun.attempts, JobRun.started_at).where(
            JobRun.name == name, JobRun.key == key
        )
    ).one_or_none()
    if row is None:
        return None
    rid, status, attempts, started = row
    retry = status == "failed" and attempts < max_attempts
    stale = status == "running" and started < now - stale_after
    if not (retry or stale):
        return None
    res = session.execute(
        update(JobRun)
        .where(JobRun.id == rid, JobRun.status == status, JobRun.attempts == attempts)
        .values(
            status="running",
            worker=worker,
            started_at=now,
            finished_at=None,
            attempts=attempts + 1,
            error=None,
        )
    )
    return rid if rowcount(res) == 1 else None


def finish(
    session: Session, run_id: int, *, ok: bool, detail: str | None = None, error: str | None = None
) -> None:
    session.execute(
        update(JobRun)
        .where(JobRun.id == run_id)
        .values(
            status="ok" if ok else "failed",
            detail=(detail or "")[:4000] or None,
            error=(error or "")[:4000] or None,
            finished_at=utcnow(),
        )
    )


def status_of(session: Session, name: str, key: str) -> str | None:
    return session.scalar(select(JobRun.status).where(JobRun.name == name, JobRun.key == key))


def recent(
    session: Session, *, limit: int = 30, failed_only: bool = False, name: str | None = None
) -> list[JobRun]:
    q = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
    if failed_only:
        q = q.where(JobRun.status == "failed")
    if name:
        q = q.where(JobRun.name == name)
    return list(session.scalars(q))


def prune(session: Session, older_than: dt.datetime) -> int:
    res = session.execute(
        delete(JobRun).where(JobRun.started_at < older_than, JobRun.status != "running")
    )
    return rowcount(res) or 0


def retryable(
    session: Session, now: dt.datetime, *, max_attempts: int = 5
) -> list[tuple[str, str]]:
    """Failed runs of the last two days worth another try: attempt n waits 2**n minutes."""
    rows = session.execute(
        select(JobRun.name, JobRun.key, JobRun.attempts, JobRun.finished_at).where(
            JobRun.status == "failed",
            JobRun.attempts < max_attempts,
            JobRun.started_at > now - dt.timedelta(days=2),
        )
    )
    return [
        (name, key)
        for name, key, attempts, finished in rows
        if finished is None or finished < now - dt.timedelta(minutes=2**attempts)
    ]
