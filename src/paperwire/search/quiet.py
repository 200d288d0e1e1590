"""Silence the progress bars third-party libraries draw while the embedding model is
prepared: transformers' "Loading weights" (tqdm) and NNCF's "Statistics collection",
"Applying Smooth Quant", "Applying Fast Bias correction" (rich). Paperwire reports that work
itself, as one line (search/prepare.py), and ``paperwire eval --json`` keeps stdout for its
JSON.

Invariant: whatever the block raises, the libraries' own settings are restored after it.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def quiet_third_party() -> Iterator[None]:
    restore: list[Callable[[], object]] = []
    try:
        from transformers.utils import logging as hf_logging

        was = hf_logging.is_progress_bar_enabled()
        # transformers leaves disable_progress_bar() without annotations
        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        if was:
            restore.append(hf_logging.enable_progress_bar)
    except ImportError:
        pass
    try:
        import rich

        console = rich.get_console()  # NNCF's bars use rich's global console
        quiet = console.quiet
        console.quiet = True
        restore.append(lambda: setattr(console, "quiet", quiet))
    except ImportError:
        pass
    loggers = [logging.getLogger(n) for n in ("nncf", "transformers", "torch.onnx")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)  # step-by-step INFO lines and version warnings
    try:
        # Anything else printed goes to stderr, never to stdout.
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
        for undo in reversed(restore):
            undo()
