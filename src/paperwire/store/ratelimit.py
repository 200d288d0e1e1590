"""Sliding-window rate limits shared by every web worker through the ``rate_events`` table.

``hit(db, key, limit, window)`` records one attempt under ``key`` (e.g. ``signin:ip:1.2.3.4``)
and says whether it is within ``limit`` attempts per ``window`` seconds.

Invariants:
- At most ``limit`` attempts are allowed in any window of ``window`` seconds per key, also with
  several processes: on PostgreSQL the check-and-insert runs under a transaction-scoped
  advisory lock on the key; on SQLite the insert comes first, which takes the database's write
  lock before the count, so concurrent writers are serialized.
- A refused attempt is not recorded (a client hammering a limit does not extend its own
  lock-out beyond the window), and the answer says how many seconds until an attempt is
  allowed again.
- ``hit`` runs in its own short transaction, independent of the action it guards: a failed
  sign-in still counts against the limit.
"""

from __future__ import annotations

import datetime as dt
import math
import zlib
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from paperwire.store.db import Database, rowcount
from paperwire.store.locks import transaction_lock
from paperwire.store.models import RateEvent, utcnow


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    remaining: int  # attempts left in the current window after this one
    retry_after: int  # seconds until the next attempt is allowed (0 when allowed)


# Namespace of the rate-limit locks (store/locks.py); see _lock_key.
_LOCK_NAMESPACE = 0x7277


def _lock_key(key: str) -> int:
    # Signed 32-bit key for pg_advisory_xact_lock(int, int); class 0x7277 ('rw') keeps these
    # locks apart from any other advisory locks the project takes.
    return zlib.crc32(key.encode("utf-8")) - 2**31


def _window(session: Session, key: str, since: dt.datetime) -> tuple[int, dt.datetime | None]:
    count, oldest = session.execute(
        select(func.count(), func.min(RateEvent.at)).where(
            RateEvent.key == key, RateEvent.at > since
        )
    ).one()
    return int(count or 0), oldest


def hit(
    db: Database,
    key: str,
    limit: int,
    window_seconds: float = 60.0,
    *,
    now: dt.datetime | None = None,
) -> RateDecision:
    """Record one attempt for ``key`` if it is allowed (see module docstring)."""
    now = now or utcnow()
    if limit <= 0:  # a limit of 0 switches rate limiting off
        return RateDecision(True, 0, 0)
    window = dt.timedelta(seconds=window_seconds)
    since = now - window
    with db.session() as session:
        if transaction_lock(session, _LOCK_NAMESPACE, _lock_key(key)):  # PostgreSQL
            count, oldest = _window(session, key, since)
            if count >= limit:
                return _refused(oldest, window, now)
            session.add(RateEvent(key=key, at=now))
        else:
            event = RateEvent(key=key, at=now)
            session.add(event)
            session.flush()  # takes SQLite's write lock: the count below is serialized
            count, oldest = _window(session, key, since)
            if count > limit:
                session.rollback()
                # The rolled-back count included this attempt: the window's oldest is unchanged.
                return _refused(oldest, window, now)
            count -= 1
        # Old events of this key are useless; dropping them here keeps the table small without
        # a separate job (``purge`` below covers keys that go quiet).
        session.execute(delete(RateEvent).where(RateEvent.key == key, RateEvent.at <= since))
        return RateDecision(True, max(0, limit - count - 1), 0)


def _refused(oldest: dt.datetime | None, window: dt.timedelta, now: dt.datetime) -> RateDecision:
    free_at = (oldest or now) + window
    retry = max(1, math.ceil((free_at - now).total_seconds()))
    return RateDecision(False, 0, retry)


def purge(
    db: Database, older_than_seconds: float = 3600.0, *, now: dt.datetime | None = None
) -> int:
    """Delete events older than any window in use (the worker's clean-up job); returns how many."""
    cutoff = (now or utcnow()) - dt.timedelta(seconds=older_than_seconds)
    with db.session() as session:
        return delete_before(session, cutoff)


def delete_before(session: Session, cutoff: dt.datetime) -> int:
    """Delete every event older than ``cutoff`` (naive UTC) in the caller's transaction."""
    return rowcount(session.execute(delete(RateEvent).where(RateEvent.at < cutoff))) or 0
