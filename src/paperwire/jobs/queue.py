"""The job queue: huey on SQLite (embedded default, DATA_DIR/queue.db) or on Redis
(``queue_url=redis://...``), so several workers on several machines share the work.

Tasks:
- ``tick`` (periodic, every minute, on every worker): enqueue the jobs ``schedule.due`` names.
  Several workers ticking is fine: the ledger lets one run each (name, key).
- ``run(name, key)``: one job under the ledger.
- A digest job fans out into ``worker_threads`` x 2 ``digest-send`` parts that any worker
  picks up; each claims deliveries from the ledger, which keeps every digest to one sender.
- Failed jobs are retried by later ticks (the ledger allows a failed key again, up to 5 times).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from paperwire.config import Settings

if TYPE_CHECKING:
    from paperwire.store.db import Database

log = logging.getLogger("paperwire.jobs")


def make_huey(settings: Settings):
    from huey import RedisHuey, SqliteHuey

    if settings.queue_url:
        if not settings.queue_url.startswith(("redis://", "rediss://", "unix://")):
            from paperwire.errors import BadInput

            raise BadInput(
                "PAPERWIRE_QUEUE_URL must be a redis:// URL (or empty for the "
                "embedded SQLite queue)"
            )
        return RedisHuey(settings.queue_name, url=settings.queue_url, utc=True)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(settings.queue_name, filename=str(settings.data_dir / "queue.db"), utc=True)


class Queue:
    """A huey instance with Paperwire's tasks bound to one settings object and database."""

    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        from huey import crontab

        from paperwire.store.db import open_database

        self.settings = settings
        self.huey = make_huey(settings)
        self._db = db
        self._open = open_database
        huey = self.huey

        @huey.task(name="paperwire.run")
        def run(name: str, key: str) -> str:
            return self._run(name, key)

        @huey.periodic_task(crontab(minute="*"), name="paperwire.tick")
        def tick() -> None:
            self.tick()

        self.run_task = run
        self.tick_task = tick

    @property
    def db(self):
        if self._db is None:
            self._db = self._open(self.settings)
        return self._db

    def _run(self, name: str, key: str) -> str:
        from paperwire.jobs.runner import run_job

        kwargs: dict[str, Any] = {}
        if name == "digest":
            parts = max(2, self.settings.worker_threads * 2)
            kwargs = dict(
                parts=parts, enqueue_parts=lambda part_key: self.enqueue("digest-send", part_key)
            )
        return run_job(self.settings, self.db, name, key, **kwargs)

    def enqueue(self, name: str, key: str):
        return self.run_task(name, key)

    def tick(self, now: dt.datetime | None = None) -> list[tuple[str, str]]:
        from paperwire.jobs.schedule import due
        from paperwire.store import jobs

        now = now or dt.datetime.now(dt.UTC)
        queued = []
        with self.db.session() as s:
            for name, key in due(now, self.settings):
                status = jobs.status_of(s, name, key)
                if status in ("ok", "running"):
                    continue
                queued.append((name, key))
            queued += [
                job for job in jobs.retryable(s, now.replace(tzinfo=None)) if job not in queued
            ]
        for name, key in queued:
            self.enqueue(name, key)
        return queued

    def consume(self) -> None:
        """Run the worker until SIGINT/SIGTERM (huey's consumer handles both)."""
        consumer = self.huey.create_consumer(
            workers=max(1, self.settings.worker_threads),
            worker_type="thread",
            periodic=True,
            check_worker_health=True,
        )
        consumer.run()
