"""Prepare the embedding model in the background: the one process ``paperwire serve`` starts
on a first start (``python -m paperwire.search.prepare``) to export and quantize the model
while the site already serves (keyword search, feeds and pages need no model).

What the console shows is one line, kept up to date on a terminal (one line per tenth
otherwise)::

    Preparing semantic search (first start, done once): 42% - about 1 min left

Everything the libraries print on the way (progress bars, warnings) goes to
``DATA_DIR/models/prepare.log``, never to the console.

Invariants:
- At most one export at a time per data dir (``embed.exported_model_path``'s file lock);
  the finished model appears by an atomic rename, so a killed preparation leaves no model
  that looks finished; its temporary folder is removed on SIGINT/SIGTERM, and by the next
  start after a kill -9 (``embed.clean_stale_exports``).
- A failure is written to ``FAILED_FILE`` (read by ``embed.get_encoder``, so search says
  why semantic search is off instead of "being prepared"); the next preparation removes it.
- It ends when its parent (``serve``) is gone, even after a kill -9 of the parent, also
  one that came before this process got going (``PARENT_ENV``).
- Test hook: while the file named by ``HOLD_ENV`` exists, the preparation waits before
  starting (tests of the first start that must not spend minutes exporting).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from paperwire.config import Settings

HOLD_ENV = "PAPERWIRE_TEST_HOLD_MODEL_PREPARATION"
PARENT_ENV = "PAPERWIRE_PREPARE_PARENT"  # the pid of the serve that started this process
FAILED_FILE = "prepare-failed.txt"
LOG_FILE = "prepare.log"
WHAT = "Preparing semantic search (first start, done once)"
TTY_QUIET_SECONDS = 8.0

log = logging.getLogger(__name__)


def _fmt_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(5, int(round(seconds / 5.0)) * 5)} s"
    return f"{int(round(seconds / 60.0))} min"


class ProgressLine:
    """One console line: what, how far (percent), roughly how long is left.

    ``update(fraction)`` with 0..1. The estimate comes from the pace since the first report
    above ``EXPORT_SHARE`` (the calibration runs, nearly all the work, advance evenly)."""

    def __init__(
        self,
        stream: TextIO,
        *,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.clock = clock
        self.started = clock()
        self._pace_from: tuple[float, float] | None = None
        self._last_draw = -1.0
        self._last_tenth = -1
        self.last_text = ""

    def text(self, fraction: float) -> str:
        fraction = min(max(fraction, 0.0), 1.0)
        now = self.clock()
        left = "estimating the time left"
        if self._pace_from is not None:
            f0, t0 = self._pace_from
            if fraction > f0 and now > t0:
                rate = (fraction - f0) / (now - t0)
                left = f"about {_fmt_duration((1.0 - fraction) / rate)} left"
        return f"{WHAT}: {int(fraction * 100)}% - {left}"

    def update(self, fraction: float) -> None:
        from paperwire.search.embed import EXPORT_SHARE

        now = self.clock()
        if self._pace_from is None and fraction >= EXPORT_SHARE:
            self._pace_from = (fraction, now)
        text = self.text(fraction)
        self.last_text = text
        if self.tty:
            # Redrawn in place at most once a second; not during the first seconds, when
            # `serve` prints its own start-up lines (they would land on this line).
            if fraction < 1.0 and (
                now - self._last_draw < 1.0 or now - self.started < TTY_QUIET_SECONDS
            ):
                return
            self._last_draw = now
            self.stream.write("\r\033[K" + text)
        else:
            tenth = int(fraction * 10)
            if tenth == self._last_tenth:
                return
            self._last_tenth = tenth
            self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self, message: str) -> None:
        prefix = "\r\033[K" if self.tty else ""
        self.stream.write(f"{prefix}{message}\n")
        self.stream.flush()


def _hold_for_tests() -> None:
    hold = os.environ.get(HOLD_ENV)
    while hold and os.path.exists(hold):
        time.sleep(0.2)


def _end_with_parent() -> None:
    """Linux: receive SIGTERM when the parent dies (even by kill -9). A parent that died
    before this call (while this interpreter started) sends nothing: then end now."""
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    parent = os.environ.get(PARENT_ENV, "")
    if parent.isdigit() and os.getppid() != int(parent):
        raise SystemExit(0)


def _on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(143)  # unwinds through the export's clean-up of its temporary folder


def run(settings: Settings, console: TextIO) -> bool:
    """Export the configured model for its backend unless done already; True when ready."""
    from paperwire.search import embed

    backend = settings.embedding_backend or embed.DEFAULT_BACKEND
    try:
        spec = embed.resolve_model(settings)
    except embed.EmbeddingModelError as exc:
        # No usable model: search says why (the web workers resolve it too); nothing to do.
        log.info("no embedding model to prepare (%s); semantic search stays off", exc)
        return False
    models = Path(settings.data_dir) / "models"
    models.mkdir(parents=True, exist_ok=True)
    failed = models / FAILED_FILE
    failed.unlink(missing_ok=True)
    if embed.model_ready(settings, backend):
        return True
    line = ProgressLine(console)
    line.update(0.0)
    started = time.monotonic()
    try:
        embed.exported_model_path(settings, spec, backend, progress=line.update)
    except Exception as exc:  # noqa: BLE001 - said once, in words; details in the log
        log.exception("preparing the embedding model failed")
        failed.write_text(f"{exc}\n")
        line.finish(
            f"Preparing semantic search failed: {exc} (details in {models / LOG_FILE});"
            " search stays keyword-only until the next start."
        )
        return False
    line.finish(
        f"Semantic search is ready (prepared in {_fmt_duration(time.monotonic() - started)})."
    )
    return True


def main() -> int:
    from paperwire.config import load_settings

    _end_with_parent()
    signal.signal(signal.SIGTERM, _on_sigterm)
    settings = load_settings()
    models = Path(settings.data_dir) / "models"
    models.mkdir(parents=True, exist_ok=True)
    # The console keeps a private copy of stderr; fds 1 and 2 (whatever libraries print, in
    # Python or in C++) go to the log file.
    console = os.fdopen(os.dup(2), "w", buffering=1)
    logfile = open(models / LOG_FILE, "a", buffering=1)
    os.dup2(logfile.fileno(), 1)
    os.dup2(logfile.fileno(), 2)
    sys.stdout = sys.stderr = logfile
    logging.basicConfig(
        stream=logfile, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        _hold_for_tests()
        return 0 if run(settings, console) else 1
    except (KeyboardInterrupt, SystemExit):
        console.write("\n" if console.isatty() else "")
        return 130


if __name__ == "__main__":
    sys.exit(main())
