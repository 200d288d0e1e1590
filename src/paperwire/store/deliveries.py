"""The digest delivery ledger: one row per (subscription, edition, period), claimed
atomically so that every digest is handed to SMTP by exactly one process.

Row life cycle::

    pending --claim--> sending --SMTP 250--> sent
                          |--no papers-----> skipped
                          |--5xx-----------> failed        (permanent)
                          '--4xx/network---> pending       (retried by a later run)

Invariants:
- ``plan`` is idempotent: the unique (subscription_id, edition, period) constraint makes a
  rerun, or a second worker, insert nothing new.
- ``claim`` flips rows to ``sending`` with a compare-and-set (``WHERE status = ...``), so two
  processes never both own a row; on PostgreSQL ``FOR UPDATE SKIP LOCKED`` also keeps them
  from waiting on each other.
- A ``sending`` row is only taken over when its claimer is known dead (same host, pid gone)
  or its claim is older than the lease: the claimer may be inside the SMTP transaction.
- The papers of a delivery are fixed (``paper_ids`` and ``sent_papers``) before the message
  is first handed to SMTP, so a resend after a crash is the same digest (same papers) with
  the same Message-ID.
- ``mark_sent`` is one single-row UPDATE committed right after the server's 250 reply: the
  only window in which a crash can cause a second copy (see docs in ``digest/send.py``).
  Of a dead claimer's rows, the one that may have reached the server is flagged
  ``Claimed.interrupted`` (the first in its send order), and the sender says so when it
  sends it again.

Why this module is long: it is the whole ledger state machine (plan, claim with take-over,
finish) and the reads of the same rows, which the exactly-once argument above reads together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from paperwire.store import ledger
from paperwire.store.authors import DIGEST_COLUMNS
from paperwire.store.base import table_of
from paperwire.store.db import rowcount
from paperwire.store.dialect import upsert
from paperwire.store.models import DigestDelivery, SentPaper, utcnow


@dataclass(frozen=True)
class Claimed:
    id: int
    subscription_id: int
    edition: str
    period: str
    attempts: int
    paper_ids: list[Any] | None  # already fixed by an earlier, interrupted attempt
    message_id: str | None
    # Taken over from a claimer that died (or outlived its lease) and the one row of it
    # that may have reached the server already (see ``_reclaim``).
    interrupted: bool = False


def plan(session: Session, edition: str, period: str, subscription_ids: Sequence[int]) -> int:
    """Record a pending delivery for each subscription (existing rows untouched).

    Returns how many rows were new."""
    now = utcnow()
    new = 0
    for start in range(0, len(subscription_ids), 1000):
        chunk = subscription_ids[start : start + 1000]
        stmt = (
            upsert(session, DigestDelivery, ["subscription_id", "edition", "period"])
            .values(
                [
                    dict(
                        subscription_id=sid,
                        edition=edition,
                        period=period,
                        status="pending",
                        attempts=0,
                        paper_ids=None,
                        created_at=now,
                    )
                    for sid in chunk
                ]
            )
            .returning(DigestDelivery.id)
        )
        # RETURNING lists only the rows inserted (rowcount is -1 on some drivers).
        new += len(session.execute(stmt).all())
    return new


def claim(
    session: Session,
    *,
    edition: str,
    period: str,
    worker: str,
    limit: int,
    lease_seconds: float,
    is_dead: Callable[[str], bool] = lambda _w: False,
    now: dt.datetime | None = None,
    exclude: Sequence[int] = (),
    seen_claimers: set[str] | None = None,
) -> list[Claimed]:
    """Take up to ``limit`` rows of this edition and period for ``worker`` (caller commits).

    ``exclude``: rows this run already handed back after temporary failures (left for the
    next run rather than hammered again now). ``seen_claimers``: one set per run, so that
    ``Claimed.interrupted`` marks exactly the rows a dead claimer may have delivered."""
    now = now or utcnow()
    claimed: list[int] = [
        r[0]
        for r in ledger.take_pending(
            session,
            DigestDelivery,
            worker=worker,
            limit=limit,
            now=now,
            exclude=exclude,
            where=(DigestDelivery.edition == edition, DigestDelivery.period == period),
        )
    ]
    maybe_delivered: set[int] = set()
    if len(claimed) < limit:
        taken_over, maybe_delivered = _reclaim(
            session,
            edition=edition,
            period=period,
            worker=worker,
            limit=limit - len(claimed),
            lease_seconds=lease_seconds,
            is_dead=is_dead,
            now=now,
            seen_claimers=seen_claimers if seen_claimers is not None else set(),
        )
        claimed += taken_over
    if not claimed:
        return []
    rows = session.execute(
        select(DigestDelivery).where(DigestDelivery.id.in_(claimed)).order_by(DigestDelivery.id)
    ).scalars()
    return [
        Claimed(
            r.id,
            r.subscription_id,
            r.edition,
            r.period,
            r.attempts,
            list(r.paper_ids) if r.paper_ids is not None else None,
            r.message_id,
            interrupted=r.id in maybe_delivered,
        )
        for r in rows
    ]


def _reclaim(
    session: Session,
    *,
    edition: str,
    period: str,
    worker: str,
    limit: int,
    lease_seconds: float,
    is_dead: Callable[[str], bool],
    now: dt.datetime,
    seen_claimers: set[str],
) -> tuple[list[int], set[int]]:
    """Take over stale ``sending`` rows: (ids taken, ids that may have been delivered).

    A sender hands its claimed rows to the server one at a time, in (claimed_at, id) order,
    and finishes each before the next. So of a dead claimer's ``sending`` rows only the
    first in that order can have reached the server (if its contents were fixed); the others
    were never handed over. ``seen_claimers`` (kept by the caller for a whole run) records
    whose first row was already taken, so later batches do not flag another one."""
    stale_before = now - dt.timedelta(seconds=lease_seconds)
    rows = session.execute(
        select(
            DigestDelivery.id,
            DigestDelivery.claimed_by,
            DigestDelivery.claimed_at,
            DigestDelivery.message_id,
        )
        .where(
            DigestDelivery.edition == edition,
            DigestDelivery.period == period,
            DigestDelivery.status == "sending",
            DigestDelivery.claimed_by != worker,
        )
        .order_by(DigestDelivery.claimed_at, DigestDelivery.id)
    ).all()
    taken: list[int] = []
    maybe_delivered: set[int] = set()
    for rid, claimer, claimed_at, mid in rows:
        if len(taken) >= limit:
            break
        if not (claimed_at is None or claimed_at < stale_before or is_dead(claimer or "")):
            continue
        # Compare-and-set on the previous claim: if another process took it over first,
        # rowcount is 0 and the row is left to it.
        res = session.execute(
            update(DigestDelivery)
            .where(
                DigestDelivery.id == rid,
                DigestDelivery.status == "sending",
                DigestDelivery.claimed_by == claimer,
                DigestDelivery.claimed_at == claimed_at,
            )
            .values(claimed_by=worker, claimed_at=now, attempts=DigestDelivery.attempts + 1)
        )
        if rowcount(res) == 1:
            taken.append(rid)
            if claimer not in seen_claimers:
                seen_claimers.add(claimer or "")
                if mid is not None:
                    maybe_delivered.add(rid)
    return taken, maybe_delivered


def fix_contents(
    session: Session,
    delivery_id: int,
    subscription_id: int,
    *,
    paper_ids: Sequence[dict[str, Any]],
    message_id: str,
) -> None:
    """Freeze what this delivery contains before it is first sent (caller commits).

    ``paper_ids`` items are ``{"id": paper id, "part": ..., ...}`` (see ``digest.build``)."""
    session.execute(
        update(DigestDelivery)
        .where(DigestDelivery.id == delivery_id)
        .values(paper_ids=list(paper_ids), message_id=message_id)
    )
    ids = list(dict.fromkeys(item["id"] for item in paper_ids))
    if ids:
        # executemany with one cached statement (a multi-VALUES insert would be compiled
        # anew for every distinct row count).
        session.execute(
            upsert(session, SentPaper),
            [
                dict(subscription_id=subscription_id, paper_id=pid, delivery_id=delivery_id)
                for pid in ids
            ],
        )


def fix_contents_many(
    session: Session, items: Sequence[tuple[int, int, list[dict[str, Any]], str]]
) -> None:
    """``fix_contents`` for a batch of (delivery_id, subscription_id, contents, message_id)
    in two executemany statements."""
    from sqlalchemy import bindparam

    if not items:
        return
    session.connection().execute(
        update(table_of(DigestDelivery))
        .where(table_of(DigestDelivery).c.id == bindparam("b_id"))
        .values(paper_ids=bindparam("b_papers"), message_id=bindparam("b_mid")),
        [dict(b_id=d, b_papers=list(c), b_mid=m) for d, _s, c, m in items],
    )
    rows = [
        dict(subscription_id=sid, paper_id=pid, delivery_id=did)
        for did, sid, contents, _m in items
        for pid in dict.fromkeys(item["id"] for item in contents)
    ]
    if rows:
        session.execute(upsert(session, SentPaper), rows)


def _finish(session: Session, delivery_id: int, worker: str, **values: Any) -> bool:
    res = session.execute(
        update(DigestDelivery)
        .where(
            DigestDelivery.id == delivery_id,
            DigestDelivery.status == "sending",
            DigestDelivery.claimed_by == worker,
        )
        .values(**values)
    )
    return rowcount(res) == 1


def mark_sent(session: Session, delivery_id: int, worker: str) -> bool:
    return _finish(session, delivery_id, worker, status="sent", sent_at=utcnow(), error=None)


def mark_sent_now(engine: Engine, delivery_id: int, worker: str) -> bool:
    """``mark_sent`` in its own transaction on a bare connection: the shortest path from the
    server's 250 to a durable ``sent`` (no ORM session set-up in the window)."""
    return ledger.mark_sent_now(engine, DigestDelivery, delivery_id, worker)


def mark_skipped(session: Session, delivery_id: int, worker: str, reason: str) -> bool:
    return _finish(session, delivery_id, worker, status="skipped", error=reason, sent_at=utcnow())


def mark_failed(session: Session, delivery_id: int, worker: str, error: str) -> bool:
    """Permanent failure: the papers were not delivered, so they may go in a later digest."""
    ok = _finish(session, delivery_id, worker, status="failed", error=error[:2000])
    if ok:
        session.execute(delete(SentPaper).where(SentPaper.delivery_id == delivery_id))
    return ok


def release(session: Session, delivery_id: int, worker: str, error: str) -> bool:
    """Temporary failure: back to pending (contents stay fixed) for a later attempt."""
    return _finish(
        session,
        delivery_id,
        worker,
        status="pending",
        error=error[:2000],
        claimed_by=None,
        claimed_at=None,
    )


def already_sent(
    session: Session, subscription_ids: Sequence[int], paper_ids: Iterable[str]
) -> set[tuple[int, str]]:
    """(subscription_id, paper_id) pairs among these that were mailed (or reserved) before."""
    papers = list(set(paper_ids))
    found: set[tuple[int, str]] = set()
    if not papers or not subscription_ids:
        return found
    subs = list(subscription_ids)
    for s0 in range(0, len(subs), 500):
        for p0 in range(0, len(papers), 400):
            rows = session.execute(
                select(SentPaper.subscription_id, SentPaper.paper_id).where(
                    SentPaper.subscription_id.in_(subs[s0 : s0 + 500]),
                    SentPaper.paper_id.in_(papers[p0 : p0 + 400]),
                )
            )
            found.update((r[0], r[1]) for r in rows)
    return found


def open_count(session: Session, edition: str, period: str) -> int:
    """Rows of this edition and period still to be sent (pending or sending)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(DigestDelivery)
            .where(
                DigestDelivery.edition == edition,
                DigestDelivery.period == period,
                DigestDelivery.status.in_(("pending", "sending")),
            )
        )
        or 0
    )


def finished_subscriptions(
    session: Session, edition: str, period: str, subscription_ids: Sequence[int]
) -> set[int]:
    """Those of ``subscription_ids`` whose delivery of this edition and period is over
    (sent, skipped or failed)."""
    return set(
        session.scalars(
            select(DigestDelivery.subscription_id).where(
                DigestDelivery.edition == edition,
                DigestDelivery.period == period,
                DigestDelivery.subscription_id.in_(list(subscription_ids)),
                DigestDelivery.status.in_(("sent", "skipped", "failed")),
            )
        )
    )


def counts(session: Session, edition: str, period: str) -> dict[str, int]:
    return {
        status: n
        for status, n in session.execute(
            select(DigestDelivery.status, func.count())
            .where(DigestDelivery.edition == edition, DigestDelivery.period == period)
            .group_by(DigestDelivery.status)
        )
    }


def for_subscription(
    session: Session, subscription_id: int, limit: int = 20
) -> list[DigestDelivery]:
    return list(
        session.scalars(
            select(DigestDelivery)
            .where(DigestDelivery.subscription_id == subscription_id)
            .order_by(DigestDelivery.id.desc())
            .limit(limit)
        )
    )


def recent_failures(session: Session, limit: int = 20) -> list[DigestDelivery]:
    return list(
        session.scalars(
            select(DigestDelivery)
            .where(
                or_(
                    DigestDelivery.status == "failed",
                    and_(DigestDelivery.status == "pending", DigestDelivery.error.is_not(None)),
                )
            )
            .order_by(DigestDelivery.id.desc())
            .limit(limit)
        )
    )


# --- what an edition is made of ------------------------------------------------------------
def period_papers(
    session: Session,
    *,
    published_from: dt.datetime,
    published_to: dt.datetime,
    feed_from: dt.date,
    feed_to: dt.date,
) -> list[tuple[Any, ...]]:
    """Visible papers published in [published_from, published_to) or put on the feed on a day
    in [feed_from, feed_to]: the candidates a digest's personal part is chosen from."""
    from paperwire.store.models import FeedEntry, Paper

    cols = DIGEST_COLUMNS
    seen: dict[str, tuple[Any, ...]] = {}
    published = select(*cols).where(
        Paper.published_at >= published_from,
        Paper.published_at < published_to,
        Paper.hidden.is_(False),
    )
    fed = (
        select(*cols)
        .join(FeedEntry, FeedEntry.paper_id == Paper.id)
        .where(FeedEntry.day >= feed_from, FeedEntry.day <= feed_to, Paper.hidden.is_(False))
    )
    for stmt in (published, fed):
        for row in session.execute(stmt):
            seen.setdefault(row[0], tuple(row))
    return list(seen.values())


def papers_by_id(session: Session, ids: Sequence[str]) -> list[tuple[Any, ...]]:
    from paperwire.store.models import Paper

    cols = DIGEST_COLUMNS
    out = []
    ids = list(ids)
    for start in range(0, len(ids), 900):
        out += [
            tuple(r)
            for r in session.execute(select(*cols).where(Paper.id.in_(ids[start : start + 900])))
        ]
    return out
