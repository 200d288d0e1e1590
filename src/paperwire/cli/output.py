"""``--json`` output that a JSON parser can read: exactly one JSON document on stdout.

``@json_output()`` wraps a command with a ``--json`` flag (``as_json``). With the flag, the
command body runs with stdout sent to stderr — Python's ``sys.stdout`` *and* file descriptor
1, so progress bars and messages of third-party code (NNCF's rich bars, OpenVINO's C++
logging) cannot reach stdout — and the object the body returns is written to the real stdout
as JSON. Without the flag the body runs as usual (printing its table) and returns None.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, TextIO

import click


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[TextIO]:
    """While active, everything written to stdout goes to stderr; yields the real stdout."""
    real = sys.stdout
    try:
        fd = real.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (e.g. click's test runner)
        fd = None
    real.flush()
    saved = os.dup(fd) if fd is not None else None
    try:
        if fd is not None:
            os.dup2(sys.stderr.fileno(), fd)
        sys.stdout = sys.stderr
        if saved is None:
            yield real
        else:
            with open(saved, "w", encoding="utf-8", closefd=False) as out:
                yield out
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout = real
        if saved is not None and fd is not None:
            os.dup2(saved, fd)
            os.close(saved)


# What a ``@json_output`` command returns: the value printed as JSON under ``--json`` (any
# JSON-serializable object), None otherwise.
JsonAnswer = Any


def json_output(**dump_options: Any) -> Callable:
    """Decorator for a click command with ``as_json``: see the module docstring.
    ``dump_options`` go to ``json.dumps`` (e.g. ``indent=2``)."""
    dump_options.setdefault("ensure_ascii", False)
    dump_options.setdefault("default", str)

    def wrap(command: Callable) -> Callable:
        @functools.wraps(command)
        def run(*args, **kwargs):
            if not kwargs.get("as_json"):
                return command(*args, **kwargs)
            with stdout_to_stderr() as out:
                result = command(*args, **kwargs)
                out.write(json.dumps(result, **dump_options) + "\n")
                out.flush()

        # Checked for every --json command (tests/cli/test_json_output.py).
        run.pure_json = True  # type: ignore[attr-defined]
        return run

    return wrap


# The options of a batch job over every stored paper (``authors reindex``, ``links backfill``).
batch_size_option = click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=2000,
    show_default=True,
    help="Papers per transaction.",
)
progress_option = click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a progress bar on stderr (default: when stderr is a terminal).",
)


def show_progress(progress: bool | None) -> bool:
    """``--progress/--no-progress`` as given, else whether stderr is a terminal."""
    return sys.stderr.isatty() if progress is None else progress
