"""A lexical index generation on disk: the pointer, the tantivy folder and its state.json.

Layout under ``DATA_DIR/index/lexical/``::

    CURRENT          name of the live generation directory: the pointer of the ``Generation``
    gen-<stamp>/     tantivy files + state.json {"watermark", "recent", "avg_len",
                     "pair_stems", ...}
    .lock            flock (``NamedLock.local``): one writer (rebuild or refresh) at a time

Invariants:
- A generation folder is written under its final, never reused name (a timestamp and the
  writer's pid) and becomes live only when ``CURRENT`` names it (``Generation.publish``);
  a ``kill -9`` before that leaves the previous generation live, and the half-written folder
  is removed by the next writer's ``cleanup`` (search/storage/files.py).
- state.json is replaced atomically (``atomic_write``), after the tantivy commit it
  describes: the watermark it holds is never ahead of the index.
- ``State`` is never mutated once made (searches on other threads hold it without a lock);
  a refresh makes the next one with ``advanced``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tantivy

from paperwire.search.lexical.documents import SCHEMA_VERSION, register
from paperwire.search.storage import ChangeCursor, Generation, atomic_write

STATE = "state.json"


class Unavailable(Exception):
    """The lexical index cannot be opened (missing, corrupt, wrong schema)."""


def generations(root: Path) -> Generation:
    return Generation(root, "CURRENT", ("gen-",))


def current(gens: Generation) -> str | None:
    """The live generation's folder name, or None when there is none."""
    text = gens.read()
    return (text.strip() or None) if text is not None else None


@dataclass(frozen=True)
class State:
    """A generation's state.json, parsed (see the module docstring).

    ``cursor`` (watermark + the papers folded within the overlap window, "recent") is the
    ``ChangeCursor`` of the ``papers.modified_at`` feed; ``data`` keeps the file's other keys
    as they were read, so a refresh writes them back unchanged."""

    data: dict[str, Any]
    cursor: ChangeCursor
    pair_stems: frozenset[str]
    avg_len: dict[str, float] | None
    recent_max: dt.datetime | None  # the newest change the cursor remembers

    @classmethod
    def parse(cls, data: dict[str, Any]) -> State:
        """ValueError/TypeError when ``data`` is not a state."""
        if not isinstance(data, dict):
            raise ValueError("not an object")
        cursor = ChangeCursor.from_json(data)
        avg = data.get("avg_len")
        return cls(
            data,
            cursor,
            frozenset(str(s) for s in data.get("pair_stems") or ()),
            {str(k): float(v) for k, v in avg.items()} if isinstance(avg, dict) and avg else None,
            max(cursor.applied.values(), default=None),
        )

    @classmethod
    def built(
        cls,
        cursor: ChangeCursor,
        *,
        built_at: dt.datetime,
        docs: int,
        avg_len: dict[str, float],
        pair_stems: list[str],
    ) -> State:
        """The state of a generation just built from the database."""
        return cls.parse(
            {
                "schema_version": SCHEMA_VERSION,
                **cursor.to_json(),
                "built_at": built_at.isoformat(),
                "docs": docs,
                "avg_len": avg_len,
                "pair_stems": pair_stems,
            }
        )

    @property
    def commits(self) -> int:
        """How many refreshes committed documents to this generation. The watermark moves
        on every refresh, the documents only with a commit: a result cache's version uses
        this (with the generation and the delta), not the file's stamp."""
        value = self.data.get("commits")
        return value if isinstance(value, int) else 0

    def advanced(
        self, started: dt.datetime, folded: dict[str, dt.datetime], *, committed: bool = False
    ) -> State:
        """The state after a refresh that started at ``started`` folded ``folded`` (the
        count of documents is no longer known); ``committed``: it wrote documents."""
        cursor = ChangeCursor(self.cursor.watermark, self.cursor.overlap, dict(self.cursor.applied))
        cursor.advance(started, folded.items())
        commits = self.commits + 1 if committed else self.commits
        return State.parse({**self.data, **cursor.to_json(), "docs": None, "commits": commits})

    def to_json(self) -> dict[str, Any]:
        return {**self.data, **self.cursor.to_json()}


def read_state(path: Path) -> State:
    """The state.json of the generation folder ``path``; Unavailable when unreadable."""
    try:
        return State.parse(json.loads((path / STATE).read_text()))
    except (OSError, ValueError, TypeError) as exc:
        raise Unavailable(f"state of {path} unreadable: {exc}") from exc


def write_state(path: Path, state: State) -> None:
    """Replace the state.json of the generation folder ``path`` (atomically)."""
    atomic_write(path / STATE, json.dumps(state.to_json()))


def state_stamp(path: Path) -> int | None:
    """The mtime (ns) of the state.json in ``path``: a cheap check for another writer's
    refresh; None when it is gone."""
    try:
        return (path / STATE).stat().st_mtime_ns
    except FileNotFoundError:
        return None


@dataclass
class Opened:
    index: tantivy.Index
    state: State
    state_stamp: int | None


def open_generation(path: Path) -> Opened:
    """Open the generation folder ``path``; Unavailable when it is unreadable or of another
    schema version."""
    stamp = state_stamp(path)  # before the read: a change in between is seen next time
    state = read_state(path)
    version = state.data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise Unavailable(f"{path} has schema version {version}, need {SCHEMA_VERSION}")
    try:
        index = tantivy.Index.open(str(path))
        register(index)
        _ = index.searcher().num_docs  # touch: fails fast on corrupt files
    except Exception as exc:  # noqa: BLE001 - tantivy raises plain ValueError/OSError
        raise Unavailable(f"cannot open {path}: {exc}") from exc
    return Opened(index, state, stamp)
