"""Handing composed digests to the transport and recording each outcome in the ledger
(``send``'s module docstring states the guarantees): ``Sender`` runs in a thread (or
inline), ``deliver`` sends one message with retries and writes its row's outcome.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from paperwire.config import Settings
from paperwire.digest.progress import RunSummary
from paperwire.digest.transport import PermanentFailure, TemporaryFailure, Transport, TransportError
from paperwire.store import deliveries, subscriptions
from paperwire.store.db import Database

log = logging.getLogger(__name__)
BATCH = 50


@dataclass
class Job:
    delivery_id: int
    subscription_id: int
    message: EmailMessage
    interrupted: bool = False  # an earlier sender died with it: maybe delivered already


class Sender:
    """Hands composed messages to the transport, in a thread or inline."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        transport: Transport,
        worker: str,
        delays: list[float],
        sleep: Callable[[float], object],
        summary: RunSummary,
        bar: Any,
        *,
        threaded: bool,
    ) -> None:
        self.settings, self.db, self.transport, self.worker = settings, db, transport, worker
        self.delays, self.sleep, self.summary, self.bar = delays, sleep, summary, bar
        self.released: set[int] = set()
        self.outstanding: set[int] = set()
        self.failed: BaseException | None = None
        self.ok: list[int] = []
        self.lock = threading.Lock()
        self.queue: queue.Queue[Job | None] = queue.Queue(maxsize=2 * BATCH)
        self.thread = None
        if threaded:
            self.thread = threading.Thread(target=self._loop, name="digest-sender", daemon=True)
            self.thread.start()

    def released_ids(self) -> list[int]:
        with self.lock:
            return sorted(self.released)

    def put(self, job: Job) -> None:
        if self.thread is None:
            self._one(job)
        else:
            while self.thread.is_alive():
                try:
                    self.queue.put(job, timeout=0.5)
                    return
                except Exception:  # noqa: BLE001 - queue.Full: check the thread again
                    continue

    def _loop(self) -> None:
        while True:
            job = self.queue.get()
            if job is None:
                return
            try:
                self._one(job)
            except BaseException as exc:  # noqa: BLE001 - reported to the main thread
                self.failed = exc
                return

    def _one(self, job: Job) -> None:
        if self.failed is not None:
            return
        try:
            ok = deliver(
                self.settings,
                self.db,
                job,
                self.transport,
                self.worker,
                self.delays,
                self.sleep,
                self.summary,
                self.released,
                self.lock,
            )
        except TransportError as exc:
            self.failed = exc
            return
        with self.lock:
            self.outstanding.discard(job.delivery_id)
            if ok:
                self.ok.append(job.subscription_id)
                if len(self.ok) >= BATCH:
                    self._flush_ok()
        self.bar.update(1)

    def _flush_ok(self) -> None:
        ids, self.ok = self.ok, []
        if ids and self.settings.digest_pause_after_failures > 0:
            with self.db.session() as s:
                subscriptions.record_success(s, ids)

    def finish(self) -> None:
        if self.thread is not None:
            if self.thread.is_alive():
                self.queue.put(None)
            self.thread.join()
        with self.lock:
            self._flush_ok()
        if self.failed is not None:
            self._release_outstanding("transport unavailable")

    def abort(self) -> None:
        self.failed = self.failed or RuntimeError("aborted")
        if self.thread is not None and self.thread.is_alive():
            try:
                self.queue.put_nowait(None)
            except Exception:  # noqa: BLE001
                pass
            self.thread.join(30)
        self._release_outstanding("run aborted")

    def _release_outstanding(self, why: str) -> None:
        with self.lock:
            ids = sorted(self.outstanding)
            self.outstanding.clear()
        if ids:
            # Hand the claimed-but-unsent rows back at once (release only touches rows still
            # 'sending' under this worker, so sent ones are safe).
            with self.db.session() as s:
                for rid in ids:
                    deliveries.release(s, rid, self.worker, why)


def deliver(
    settings: Settings,
    db: Database,
    job: Job,
    transport: Transport,
    worker: str,
    delays: list[float],
    sleep: Callable[[float], object],
    summary: RunSummary,
    released: set[int],
    lock: threading.Lock,
) -> bool:
    """Send one message; True when the server accepted it."""
    if job.interrupted:
        contains = getattr(transport, "contains", None)
        if contains is not None and contains(job.message):
            # The dead sender got it there (the outbox can tell): record it, send nothing.
            deliveries.mark_sent_now(db.engine, job.delivery_id, worker)
            with lock:
                summary.sent += 1
            return True
        log.warning(
            "delivery %s: resending after an interrupted run with the same "
            "Message-ID %s (the earlier attempt may have been delivered)",
            job.delivery_id,
            job.message["Message-ID"],
        )
        with lock:
            summary.resent += 1
    attempt = 0
    while True:
        try:
            transport.send(job.message)
        except TemporaryFailure as exc:
            if attempt < len(delays):
                log.info(
                    "temporary SMTP failure for delivery %s (%s); retrying in %.1fs",
                    job.delivery_id,
                    exc,
                    delays[attempt],
                )
                sleep(delays[attempt])
                attempt += 1
                continue
            with lock:  # before the row is pending again, so this run does not retake it
                released.add(job.delivery_id)
            with db.session() as s:
                deliveries.release(s, job.delivery_id, worker, f"temporary: {exc}")
            with lock:
                summary.retry_later += 1
                summary.errors.append(str(exc))
            return False
        except PermanentFailure as exc:
            with db.session() as s:
                deliveries.mark_failed(s, job.delivery_id, worker, f"permanent: {exc}")
                sub = subscriptions.record_permanent_failure(
                    s,
                    job.subscription_id,
                    str(exc),
                    pause_after=settings.digest_pause_after_failures,
                )
                if sub.status == "paused":
                    with lock:
                        summary.paused += 1
            with lock:
                summary.failed += 1
                summary.errors.append(str(exc))
            return False
        break
    # The one write between the server's 250 and durability: keep it a single-row UPDATE.
    deliveries.mark_sent_now(db.engine, job.delivery_id, worker)
    with lock:
        summary.sent += 1
    return True
