"""Run one job under the ledger: claim (name, key), run, record the outcome, log it."""

from __future__ import annotations

import logging
import time
import traceback
from typing import TYPE_CHECKING, Any

from paperwire.config import Settings
from paperwire.digest.send import worker_id
from paperwire.errors import BadInput

if TYPE_CHECKING:
    from paperwire.store.db import Database

log = logging.getLogger("paperwire.jobs")


def run_job(
    settings: Settings,
    db: Database,
    name: str,
    key: str,
    *,
    worker: str | None = None,
    **kwargs: Any,
) -> str:
    """'skipped' when done or taken by another worker, else 'ok' or 'failed'."""
    from paperwire.jobs.definitions import JOBS
    from paperwire.store import jobs

    fn = JOBS.get(name)
    if fn is None:
        raise BadInput(f"unknown job {name!r}; jobs: {', '.join(sorted(JOBS))}")
    worker = worker or worker_id()
    with db.session() as s:
        run_id = jobs.start(s, name, key, worker)
    if run_id is None:
        log.debug("job %s %s: already done or running elsewhere", name, key)
        return "skipped"
    t0 = time.monotonic()
    try:
        detail = fn(settings, db, key, **kwargs)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded, then re-raised
        with db.session() as s:
            jobs.finish(
                s,
                run_id,
                ok=False,
                error=f"{type(exc).__name__}: {exc}\n" + traceback.format_exc(limit=5),
            )
        log.error("job %s %s failed after %.1fs: %s", name, key, time.monotonic() - t0, exc)
        return "failed"
    with db.session() as s:
        jobs.finish(s, run_id, ok=True, detail=detail)
    log.info("job %s %s ok in %.1fs: %s", name, key, time.monotonic() - t0, detail)
    return "ok"
