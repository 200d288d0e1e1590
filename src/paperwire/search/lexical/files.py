"""A lexical index generation on disk: the pointer, the tantivy folder and its state.json.

Layout under ``DATA_DIR/index/lexical/``::

    CURRENT          name of the live generation directory (replaced atomically)
    gen-<stamp>/     tantivy files + state.json {"watermark", "avg_len", "pair_stems", ...}
    .lock            flock: one writer (rebuild or refresh) per data dir at a time
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import tantivy

from paperwire.search.lexical.documents import SCHEMA_VERSION, register


class Unavailable(Exception):
    """The lexical index cannot be opened (missing, corrupt, wrong schema)."""


def read_current(root: Path) -> str | None:
    try:
        return (root / "CURRENT").read_text().strip() or None
    except FileNotFoundError:
        return None


def open_generation(root: Path, gen: str) -> tuple[tantivy.Index, dict, int]:
    """The tantivy index, state and state.json mtime of generation ``gen``; Unavailable when
    it is unreadable or of another schema version."""
    path = root / gen
    state_path = path / "state.json"
    try:
        state = json.loads(state_path.read_text())
    except (OSError, ValueError) as exc:
        raise Unavailable(f"state of {path} unreadable: {exc}") from exc
    if state.get("schema_version") != SCHEMA_VERSION:
        raise Unavailable(
            f"{path} has schema version {state.get('schema_version')}, need {SCHEMA_VERSION}"
        )
    try:
        index = tantivy.Index.open(str(path))
        register(index)
        _ = index.searcher().num_docs  # touch: fails fast on corrupt files
    except Exception as exc:  # noqa: BLE001 - tantivy raises plain ValueError/OSError
        raise Unavailable(f"cannot open {path}: {exc}") from exc
    return index, state, state_path.stat().st_mtime_ns


def pair_stems(state: dict) -> frozenset[str]:
    cached = state.get("_pair_stems")
    if cached is None:
        cached = state["_pair_stems"] = frozenset(state.get("pair_stems") or ())
    return cached


def write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as fh:
        json.dump(data, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def publish(root: Path, gen: str) -> None:
    tmp = root / f".CURRENT.{os.getpid()}.tmp"
    tmp.write_text(gen)
    os.replace(tmp, root / "CURRENT")


def remove_stale_generations(root: Path, keep: str | None) -> None:
    if not root.exists():
        return
    for child in root.iterdir():
        if child.is_dir() and child.name.startswith("gen-") and child.name != keep:
            shutil.rmtree(child, ignore_errors=True)
