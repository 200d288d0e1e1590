"""``ChangeCursor``: where a reader of a timestamped change feed resumes.

The feeds (``papers.modified_at`` for the lexical index and the embedder,
``embeddings.created_at`` for the semantic index) are stamped by the writing process when it
writes, but a transaction becomes visible when it commits: on PostgreSQL a row stamped at t
can appear after rows stamped later were already read. A cursor therefore keeps its
``watermark`` ``overlap`` behind the time its last read *started*, re-reads that window every
time, and remembers which (id, stamp) of the window it already applied so they are not
applied twice.

``OVERLAP`` (120 s) is one constant for all three readers, the largest of the three they had
(60 s and 120 s): it must exceed the longest time between stamping a row and committing it
(an embedder batch, an import batch: seconds) plus any clock skew between hosts writing to
one PostgreSQL. The cost of a longer window is only re-reading its rows (their ids and
stamps; applied ones are skipped), small next to a missed paper.

Invariant: every change stamped at or before ``watermark`` has been applied; changes stamped
after it are applied iff ``applied[id] == stamp``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

OVERLAP = dt.timedelta(seconds=120)


def _iso(value: dt.datetime) -> str:
    return value.isoformat()


def _from_iso(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


@dataclass
class ChangeCursor:
    """Watermark and overlap window of one reader of a change feed (not thread-safe: its
    owner serializes reads)."""

    watermark: dt.datetime | None = None
    overlap: dt.timedelta = OVERLAP
    applied: dict[str, dt.datetime] = field(default_factory=dict)

    def is_applied(self, key: str, stamp: dt.datetime) -> bool:
        """Whether the change (key, stamp), read again in the window, was applied already."""
        return self.applied.get(key) == stamp

    def pending(self, rows: Iterable[tuple[str, dt.datetime]]) -> list[tuple[str, dt.datetime]]:
        """The rows of a read that still need applying."""
        return [(key, stamp) for key, stamp in rows if not self.is_applied(key, stamp)]

    def advance(
        self, started: dt.datetime, applied: Iterable[tuple[str, dt.datetime]] = ()
    ) -> None:
        """Record a completed read that *started* at ``started`` (before its first query) and
        applied ``applied``: the watermark moves to ``started - overlap`` (never back), and
        applied changes after it are remembered; older memories are dropped."""
        horizon = started - self.overlap
        if self.watermark is None or horizon > self.watermark:
            self.watermark = horizon
        wm = self.watermark
        for key, stamp in applied:
            if stamp > wm:
                self.applied[key] = stamp
        self.applied = {k: s for k, s in self.applied.items() if s > wm}

    def reset(self) -> None:
        """Forget everything: the next read starts from the beginning."""
        self.watermark = None
        self.applied = {}

    def to_json(self) -> dict[str, Any]:
        return {
            "watermark": _iso(self.watermark) if self.watermark else None,
            "recent": {k: _iso(s) for k, s in self.applied.items()},
        }

    @classmethod
    def from_json(
        cls, data: dict[str, Any] | None, overlap: dt.timedelta = OVERLAP
    ) -> ChangeCursor:
        """The cursor saved by ``to_json`` (``None`` or no watermark: from the beginning)."""
        data = data or {}
        wm = data.get("watermark")
        return cls(
            watermark=_from_iso(wm) if isinstance(wm, str) and wm else None,
            overlap=overlap,
            applied={str(k): _from_iso(v) for k, v in (data.get("recent") or {}).items()},
        )
