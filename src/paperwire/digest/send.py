"""Sending an edition: plan the ledger, claim rows in small batches, compose, hand each
message to the transport, record the outcome.

Exactly once, nothing lost
--------------------------
Every (subscription, edition, period) has one ``digest_deliveries`` row (unique constraint).
A row is claimed (``pending`` -> ``sending``, committed) before its message goes to SMTP, its
contents are frozen (paper list + Message-ID, committed), and it is marked ``sent`` in its own
one-row transaction right after the server's 250 reply. So:

- a second run or a second worker finds the row ``sent`` (or claimed by a live process) and
  leaves it alone;
- a crash (``kill -9``) before the server accepted the message leaves the row ``sending``;
  a rerun takes it over at once when the claiming process is known dead (same host, pid gone)
  or after ``digest_sending_lease_seconds`` otherwise, and sends the same digest again;
- **the residual window**: a crash after the server committed the message but before our
  ``sent`` commit (the time to read the 250 and commit one UPDATE: around a millisecond) makes
  the rerun send it a second time. SMTP has no way to ask a server whether it accepted a
  message, so the choice is between a rare duplicate and a rare loss; Paperwire picks the
  duplicate, and makes it harmless: the resend carries the same Message-ID, which mail
  clients such as Gmail use to fold copies into one.
- Temporary failures (4xx, connection lost) are retried with exponential backoff
  (``digest_retry_attempts``, ``digest_retry_backoff_seconds``); still failing, the row goes
  back to ``pending`` for the next run. A permanent 5xx marks the row ``failed`` and counts
  against the subscription, which is paused after ``digest_pause_after_failures`` in a row.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import sys
import time
import uuid
from dataclasses import dataclass, field

from paperwire.digest import build
from paperwire.digest.compose import ComposeError, compose_digest, message_id, sender_domain
from paperwire.digest.edition import Edition
from paperwire.digest.model import MailIdentity
from paperwire.digest.transport import PermanentFailure, TemporaryFailure, TransportError

log = logging.getLogger(__name__)
BATCH = 50
_HOST = socket.gethostname()


def worker_id() -> str:
    """host:pid:random — lets a rerun on the same host see that a claimer has died."""
    return f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claimer_is_dead(claimer: str) -> bool:
    try:
        host, pid, _ = claimer.rsplit(":", 2)
        pid_n = int(pid)
    except ValueError:
        return False
    if host != _HOST:
        return False   # cannot tell for another machine: wait for the lease
    if pid_n == os.getpid():
        return False
    try:
        os.kill(pid_n, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass
class RunSummary:
    edition: str
    period: str
    planned: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    retry_later: int = 0
    paused: int = 0
    candidates: int = 0
    elapsed: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.retry_later == 0

    def line(self) -> str:
        rate = self.sent / self.elapsed if self.elapsed > 0 else 0.0
        return (f"{self.edition} {self.period}: {self.sent} sent, {self.skipped} skipped "
                f"(nothing new or unsubscribed), {self.failed} failed permanently, "
                f"{self.retry_later} left for retry, {self.paused} subscriptions paused; "
                f"{self.candidates} papers in the period; {self.elapsed:.1f}s "
                f"({rate:.0f} messages/s)")


def send_edition(settings, db, ed: Edition, transport, *, progress: bool = True,
                 worker: str | None = None, sleep=time.sleep) -> RunSummary:
    """Deliver one edition to every active subscriber that has not had it yet."""
    from sqlalchemy import func, select

    from paperwire.store import deliveries, subscriptions
    from paperwire.store.models import DigestDelivery

    worker = worker or worker_id()
    ident = MailIdentity.from_settings(settings)
    domain = sender_domain(ident)
    t0 = time.monotonic()
    summary = RunSummary(ed.edition, ed.period)
    with db.session() as s:
        data = build.load_edition(settings, s, ed)
        ids = [sid for sid, _ in subscriptions.active_for_edition(s, ed.edition)]
        summary.planned = deliveries.plan(s, ed.edition, ed.period, ids)
        todo = s.scalar(select(func.count()).select_from(DigestDelivery).where(
            DigestDelivery.edition == ed.edition, DigestDelivery.period == ed.period,
            DigestDelivery.status.in_(("pending", "sending"))))
    summary.candidates = len(data.papers)
    bar = _bar(todo, progress, f"{ed.edition} {ed.period}")
    delays = [settings.digest_retry_backoff_seconds * 2 ** i
              for i in range(max(0, settings.digest_retry_attempts))]
    released: set[int] = set()
    try:
        while True:
            with db.session() as s:
                claimed = deliveries.claim(
                    s, edition=ed.edition, period=ed.period, worker=worker, limit=BATCH,
                    lease_seconds=settings.digest_sending_lease_seconds,
                    is_dead=claimer_is_dead, exclude=sorted(released))
            if not claimed:
                break
            jobs = _prepare(settings, db, data, claimed, worker, domain, ident, summary)
            ok: list[int] = []
            try:
                for job in jobs:
                    if _deliver(settings, db, job, transport, worker, delays, sleep, summary,
                                released):
                        ok.append(job.subscription_id)
                    bar.update(1)
            except TransportError:
                # Nothing about these subscribers: hand the rest of the batch back at once
                # (release only touches rows still 'sending' under this worker).
                with db.session() as s:
                    for c in claimed:
                        deliveries.release(s, c.id, worker, "transport unavailable")
                raise
            finally:
                if ok and settings.digest_pause_after_failures > 0:
                    with db.session() as s:
                        subscriptions.record_success(s, ok)
            bar.update(len(claimed) - len(jobs))
    finally:
        bar.close()
        summary.elapsed = time.monotonic() - t0
    return summary


@dataclass
class _Job:
    delivery_id: int
    subscription_id: int
    message: object


def _prepare(settings, db, data, claimed, worker, domain, ident, summary) -> list[_Job]:
    """Fix the contents of newly claimed rows and compose every message (one transaction)."""
    from paperwire.store import deliveries, subscriptions

    jobs: list[_Job] = []
    now = dt.datetime.now(dt.timezone.utc)
    with db.session() as s:
        subs = subscriptions.load_many(s, [c.subscription_id for c in claimed])
        names = subscriptions.display_names(s, [x.user_id for x in subs.values()])
        fresh = [c for c in claimed if c.paper_ids is None]
        sent = deliveries.already_sent(s, [c.subscription_id for c in fresh], data.all_ids())
        frozen_ids = {i["id"] for c in claimed if c.paper_ids for i in c.paper_ids
                      if isinstance(i, dict)}
        missing = [pid for pid in frozen_ids if pid not in data.papers]
        if missing:
            data.papers.update({r[0]: build._paper(r, data.base_url)
                                for r in deliveries.papers_by_id(s, missing)})
        for c in claimed:
            sub = subs.get(c.subscription_id)
            if sub is None or sub.status != "active":
                deliveries.mark_skipped(s, c.id, worker, "subscription no longer active")
                summary.skipped += 1
                continue
            if c.paper_ids is None:
                already = {pid for (sid, pid) in sent if sid == c.subscription_id}
                trending, personal = build.choose(data, topics=sub.topics or [],
                                                  max_papers=sub.max_papers, already=already)
                frozen = build.contents(trending, personal)
                mid = message_id("digest", f"{c.id}.{c.edition}.{c.period}", domain)
                deliveries.fix_contents(s, c.id, c.subscription_id,
                                        paper_ids=frozen, message_id=mid)
            else:
                trending, personal = build.from_contents(c.paper_ids, data.papers)
                mid = c.message_id or message_id("digest", f"{c.id}.{c.edition}.{c.period}",
                                                 domain)
            if not trending and not personal:
                deliveries.mark_skipped(s, c.id, worker, "nothing new for this subscriber")
                summary.skipped += 1
                continue
            digest = build.make_digest(
                settings, data, email=sub.email, name=names.get(sub.user_id),
                subscription_id=sub.id, token_version=sub.token_version,
                topics=sub.topics or [], trending=trending, personal=personal)
            try:
                msg = compose_digest(digest, ident, date=now, msg_id=mid)
            except ComposeError as exc:
                deliveries.mark_failed(s, c.id, worker, f"cannot compose: {exc}")
                summary.failed += 1
                continue
            jobs.append(_Job(c.id, c.subscription_id, msg))
    return jobs


def _deliver(settings, db, job: _Job, transport, worker, delays, sleep, summary,
             released: set[int]) -> bool:
    """Send one message; True when the server accepted it."""
    from paperwire.store import deliveries, subscriptions

    attempt = 0
    while True:
        try:
            transport.send(job.message)
        except TemporaryFailure as exc:
            if attempt < len(delays):
                log.info("temporary SMTP failure for delivery %s (%s); retrying in %.1fs",
                         job.delivery_id, exc, delays[attempt])
                sleep(delays[attempt])
                attempt += 1
                continue
            with db.session() as s:
                deliveries.release(s, job.delivery_id, worker, f"temporary: {exc}")
            released.add(job.delivery_id)
            summary.retry_later += 1
            summary.errors.append(str(exc))
            return False
        except PermanentFailure as exc:
            with db.session() as s:
                deliveries.mark_failed(s, job.delivery_id, worker, f"permanent: {exc}")
                sub = subscriptions.record_permanent_failure(
                    s, job.subscription_id, str(exc),
                    pause_after=settings.digest_pause_after_failures)
                if sub.status == "paused":
                    summary.paused += 1
            summary.failed += 1
            summary.errors.append(str(exc))
            return False
        break
    # The one write between the server's 250 and durability: keep it a single-row UPDATE.
    with db.session() as s:
        deliveries.mark_sent(s, job.delivery_id, worker)
    summary.sent += 1
    return True


def _bar(total: int, enabled: bool, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, disable=not enabled, unit="msg", desc=desc, file=sys.stderr,
                dynamic_ncols=True)
