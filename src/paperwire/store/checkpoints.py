"""Named progress markers in the ``checkpoints`` table (harvest resumption, import offsets,
index watermarks).

Invariant: ``save_checkpoint`` runs in the caller's transaction, so a checkpoint commits
together with the work it describes: after a crash the marker never points past work that was
lost, nor before work that was kept.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from paperwire.store.models import Checkpoint, utcnow


def get_checkpoint(session: Session, name: str) -> dict[str, Any] | None:
    value = session.scalar(select(Checkpoint.value).where(Checkpoint.name == name))
    return dict(value) if value is not None else None


def save_checkpoint(session: Session, name: str, value: dict[str, Any]) -> None:
    row = session.get(Checkpoint, name)
    if row is None:
        session.add(Checkpoint(name=name, value=dict(value), updated_at=utcnow()))
    else:
        row.value = dict(value)
        row.updated_at = utcnow()
    session.flush()


def delete_checkpoint(session: Session, name: str) -> None:
    session.execute(delete(Checkpoint).where(Checkpoint.name == name))


def list_checkpoints(session: Session, prefix: str = "") -> dict[str, dict[str, Any]]:
    rows = session.execute(
        select(Checkpoint.name, Checkpoint.value).where(Checkpoint.name.startswith(prefix))
    )
    return {name: dict(value) for name, value in rows}
