"""The steps the two mail ledgers share (``digest_deliveries``, ``store.deliveries``, and
``notification_mails``, ``store.notifications``): taking pending rows for a sender, and the
one-row ``sent`` commit right after the server's 250.

A ledger table has ``id``, ``status`` (pending | sending | sent | ...), ``claimed_by``,
``claimed_at``, ``attempts``, ``sent_at`` and ``error`` columns.

Invariants:
- ``take_pending`` moves a row ``pending`` -> ``sending`` only if it is still ``pending`` at
  the UPDATE (two senders never both get it; on PostgreSQL ``SKIP LOCKED`` lets them take
  different rows at once), and bumps ``attempts``. The caller commits.
- ``mark_sent_now`` marks ``sent`` only a row still ``sending`` under this worker, in its own
  transaction on a bare connection (the shortest window between the 250 and durability).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from paperwire.store.base import table_of
from paperwire.store.models import utcnow


def take_pending(
    session: Session,
    model: Any,
    *,
    worker: str,
    limit: int,
    now: dt.datetime,
    where: Sequence[Any] = (),
    exclude: Iterable[int] = (),
    returning: Sequence[Any] = (),
) -> list[tuple[Any, ...]]:
    """Claim up to ``limit`` pending rows of ``model`` (lowest ids first) matching ``where``
    and not in ``exclude`` for ``worker``; the rows ``(id, *returning)`` taken."""
    exclude = list(exclude)
    q = select(model.id).where(model.status == "pending", *where).order_by(model.id).limit(limit)
    if exclude:
        q = q.where(model.id.not_in(exclude))
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    ids = list(session.scalars(q))
    if not ids:
        return []
    return [
        tuple(row)
        for row in session.execute(
            update(model)
            .where(model.id.in_(ids), model.status == "pending")
            .values(
                status="sending", claimed_by=worker, claimed_at=now, attempts=model.attempts + 1
            )
            .returning(model.id, *returning)
        )
    ]


def mark_sent_now(engine: Engine, model: Any, row_id: int, worker: str) -> bool:
    """``sent`` in its own one-row transaction (module invariants); False when the row is no
    longer this worker's."""
    t = table_of(model)
    with engine.begin() as conn:
        res = conn.execute(
            update(t)
            .where(t.c.id == row_id, t.c.status == "sending", t.c.claimed_by == worker)
            .values(status="sent", sent_at=utcnow(), error=None)
        )
    return bool(res.rowcount == 1)
