"""Atomic file writes and file generations.

Invariants:
- ``atomic_write`` leaves either the old content or the complete new content at ``path``,
  whatever moment the process is killed (temp file in the same folder, fsync, rename, fsync
  of the folder).
- A ``Generation``'s live state is whatever its pointer file names. Writers stage files
  under ``temp_path`` names or under new generation names, then ``publish`` the pointer; a
  ``kill -9`` before the rename leaves the previous generation in force, and the leftovers
  are removed by the next ``cleanup`` (a temporary is removed only once the process that
  made it is gone, so a live writer is never disturbed).
- Readers that opened an old generation keep reading it after cleanup: unlinked files stay
  alive while open (and memory-mapped), so cleanup never breaks another process's view.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Collection
from pathlib import Path

from paperwire.procs import pid_alive

# What ``Generation.stamp`` compares: (inode, mtime in ns, size) of the pointer file.
Stamp = tuple[int, int, int]

_TMP = ".tmp-"


def temp_path(path: Path) -> Path:
    """Where to stage ``path`` before renaming it into place: ``.<name>.tmp-<pid>`` beside it
    (same file system, so the rename is atomic; the pid tells cleanup whose it is)."""
    return path.with_name(f".{path.name}{_TMP}{os.getpid()}")


def temp_owner(name: str) -> int | None:
    """The pid that staged a temporary entry named ``name``, or None if it is not one."""
    if not name.startswith(".") or _TMP not in name:
        return None
    pid = name.rsplit(_TMP, 1)[1]
    return int(pid) if pid.isdigit() else None


def fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def atomic_write(path: Path, data: bytes | str) -> None:
    """Replace ``path`` with ``data`` atomically and durably (see the module docstring)."""
    tmp = temp_path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        with open(tmp, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def install(staged: Path, path: Path) -> None:
    """Move a staged file or folder (already written) to its final name durably."""
    if staged.is_file():
        fsync_file(staged)
    elif path.is_dir():
        # A folder cannot be renamed over a non-empty one: an unreferenced leftover of that
        # name (callers never reuse a published name) goes first.
        shutil.rmtree(path)
    os.replace(staged, path)
    fsync_dir(path.parent)


class Generation:
    """A folder of generations named by the pointer file ``folder/pointer``.

    The pointer's content is the caller's (a JSON manifest, or a generation folder's name);
    entries whose names start with one of ``prefixes`` belong to some generation, and
    ``cleanup`` removes those the caller no longer keeps.
    """

    def __init__(self, folder: Path, pointer: str, prefixes: tuple[str, ...]) -> None:
        self.folder = folder
        self.pointer = folder / pointer
        self.prefixes = prefixes

    def read(self) -> str | None:
        """The pointer's content, or None when nothing was published yet."""
        try:
            return self.pointer.read_text()
        except FileNotFoundError:
            return None

    def stamp(self) -> Stamp | None:
        """The pointer's (inode, mtime ns, size), None when nothing was published: a cheap
        check whether another process published. A publish replaces the file (a new inode),
        so a new pointer is never taken for the old one, whatever the clock's resolution."""
        try:
            st = self.pointer.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def highest_number(self) -> int:
        """The highest ``<prefix><number>`` among the folder's entries (0 if none): a new
        generation numbered above it never reuses a name, even after a lost pointer."""
        best = 0
        try:
            names = [p.name for p in self.folder.iterdir()]
        except FileNotFoundError:
            return 0
        for name in names:
            for prefix in self.prefixes:
                if name.startswith(prefix):
                    digits = name[len(prefix) :].split(".", 1)[0]
                    if digits.isdigit():
                        best = max(best, int(digits))
        return best

    def staging(self, name: str) -> Path:
        """A temporary path to write the generation entry ``name`` under before ``install``."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return temp_path(self.folder / name)

    def publish(self, content: str, keep: Collection[str]) -> None:
        """Point at a new generation (its files already in place), then remove the entries of
        older generations not in ``keep`` and dead writers' temporaries."""
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write(self.pointer, content)
        self.cleanup(keep)

    def cleanup(self, keep: Collection[str]) -> int:
        """Remove generation entries not in ``keep`` and temporaries of processes that are
        gone; returns how many entries were removed. Call it holding the writer lock."""
        removed = 0
        try:
            entries = list(self.folder.iterdir())
        except FileNotFoundError:
            return 0
        for entry in entries:
            name = entry.name
            owner = temp_owner(name)
            if owner is not None:
                stale = not pid_alive(owner)  # a live writer (this process too) may use it
            else:
                stale = name.startswith(self.prefixes) and name not in keep
            if not stale:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed += 1
        return removed
