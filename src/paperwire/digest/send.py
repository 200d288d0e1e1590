"""Sending an edition: plan the ledger, claim rows in small batches, compose, hand each
message to the transport, record the outcome.

What is guaranteed
------------------
Every (subscription, edition, period) has one ``digest_deliveries`` row (unique constraint).
A row is claimed (``pending`` -> ``sending``, committed) before its message goes out, its
contents are frozen (paper list + Message-ID, committed), and it is marked ``sent`` in its own
one-row transaction right after the server's 250 reply (or the outbox's write). So:

- **Never lost, never sent twice by two processes.** A second run or a second worker finds
  the row ``sent`` (or claimed by a live process) and leaves it alone. A crash before the
  server accepted the message leaves the row ``sending``; a rerun takes it over at once when
  the claimer is known dead (same host, pid gone), else after
  ``digest_sending_lease_seconds``, and sends the same digest.
- **Over SMTP: exactly once, except one window, where it is at most twice.** A crash after
  the server committed the message and before our ``sent`` commit (reading the 250 and one
  single-row UPDATE on a bare connection: about a millisecond per message; with one SMTP
  connection at most one message is ever in it) makes the rerun send that message a second
  time. SMTP cannot tell a client whether an earlier session's message was accepted, so the
  choice is between a rare duplicate and a rare loss; Paperwire picks the duplicate and makes
  it recognisable: the resend is the same digest (same papers and text; its Date, MIME
  boundaries and the signing time in its links are new) under the same stable
  ``Message-ID`` (``<digest.{delivery}.{edition}.{period}@domain>``), which relays and mail
  clients that de-duplicate by Message-ID fold into one. Each crash costs at most one
  duplicate per sender process. The rerun knows which taken-over row may be one (a sender
  hands its rows over one at a time, in order: only the first of a dead claimer's
  ``sending`` rows can have reached the server, ``Claimed.interrupted``), logs it as a
  possible duplicate and counts it (``RunSummary.resent``).
  ``tests/digest/test_crash_window.py`` kills a real sender in this window and checks it.
- **Into the local outbox: exactly once.** Before resending a taken-over row the sender
  asks the transport whether it holds that Message-ID already (``contains``); the outbox
  can answer (its files are named by Message-ID), so it is marked ``sent`` without a copy.
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

from paperwire.digest import build, followed_authors, recommended
from paperwire.digest.compose import ComposeError, compose_digest, message_id, sender_domain
from paperwire.digest.edition import Edition
from paperwire.digest.model import MailIdentity
from paperwire.digest.transport import PermanentFailure, TemporaryFailure, TransportError
from paperwire.procs import pid_alive

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
    return not pid_alive(pid_n)


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
    resent: int = 0          # taken over from a dead sender: each may be a duplicate
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
                f"{self.retry_later} left for retry, {self.paused} subscriptions paused, "
                f"{self.resent} resent after an interrupted run (possible duplicates); "
                f"{self.candidates} papers in the period; {self.elapsed:.1f}s "
                f"({rate:.0f} messages/s)")


def send_edition(settings, db, ed: Edition, transport, *, progress: bool = True,
                 worker: str | None = None, sleep=time.sleep,
                 pipeline: bool = True) -> RunSummary:
    """Deliver one edition to every active subscriber that has not had it yet.

    ``pipeline``: a sender thread talks SMTP while this thread composes the next batch (one
    SMTP connection, so at most one message is ever between the server's 250 and our
    ``sent`` commit). Off: everything in the calling thread.
    """
    from paperwire.store import deliveries, subscriptions

    worker = worker or worker_id()
    ident = MailIdentity.from_settings(settings)
    domain = sender_domain(ident)
    t0 = time.monotonic()
    summary = RunSummary(ed.edition, ed.period)
    with db.session() as s:
        data = build.load_edition(settings, s, ed, db=db)
        ids = [sid for sid, _ in subscriptions.active_for_edition(s, ed.edition)]
        summary.planned = deliveries.plan(s, ed.edition, ed.period, ids)
        todo = deliveries.open_count(s, ed.edition, ed.period)
    summary.candidates = len(data.papers)
    bar = _bar(todo, progress, f"{ed.edition} {ed.period}")
    delays = [settings.digest_retry_backoff_seconds * 2 ** i
              for i in range(max(0, settings.digest_retry_attempts))]
    sender = _Sender(settings, db, transport, worker, delays, sleep, summary, bar,
                     threaded=pipeline)
    seen_claimers: set[str] = set()
    try:
        while not sender.failed:
            with db.session() as s:
                claimed = deliveries.claim(
                    s, edition=ed.edition, period=ed.period, worker=worker, limit=BATCH,
                    lease_seconds=settings.digest_sending_lease_seconds,
                    is_dead=claimer_is_dead, exclude=sender.released_ids(),
                    seen_claimers=seen_claimers)
            if not claimed:
                break
            sender.outstanding.update(c.id for c in claimed)
            jobs, n_skipped, n_failed = _prepare(settings, db, data, claimed, worker, domain,
                                                 ident)
            with sender.lock:
                summary.skipped += n_skipped
                summary.failed += n_failed
            done = {c.id for c in claimed} - {j.delivery_id for j in jobs}
            sender.outstanding.difference_update(done)
            bar.update(len(done))
            for job in jobs:
                sender.put(job)
        sender.finish()
    except BaseException:
        sender.abort()
        raise
    finally:
        bar.close()
        summary.elapsed = time.monotonic() - t0
    if sender.failed is not None:
        raise sender.failed
    return summary


class _Sender:
    """Hands composed messages to the transport, in a thread or inline."""

    def __init__(self, settings, db, transport, worker, delays, sleep, summary, bar, *,
                 threaded: bool) -> None:
        import queue
        import threading

        self.settings, self.db, self.transport, self.worker = settings, db, transport, worker
        self.delays, self.sleep, self.summary, self.bar = delays, sleep, summary, bar
        self.released: set[int] = set()
        self.outstanding: set[int] = set()
        self.failed: BaseException | None = None
        self.ok: list[int] = []
        self.lock = threading.Lock()
        self.queue: queue.Queue[_Job | None] = queue.Queue(maxsize=2 * BATCH)
        self.thread = None
        if threaded:
            self.thread = threading.Thread(target=self._loop, name="digest-sender", daemon=True)
            self.thread.start()

    def released_ids(self) -> list[int]:
        with self.lock:
            return sorted(self.released)

    def put(self, job: _Job) -> None:
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

    def _one(self, job: _Job) -> None:
        if self.failed is not None:
            return
        try:
            ok = _deliver(self.settings, self.db, job, self.transport, self.worker,
                          self.delays, self.sleep, self.summary, self.released, self.lock)
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
        from paperwire.store import subscriptions

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
        from paperwire.store import deliveries

        with self.lock:
            ids = sorted(self.outstanding)
            self.outstanding.clear()
        if ids:
            # Hand the claimed-but-unsent rows back at once (release only touches rows still
            # 'sending' under this worker, so sent ones are safe).
            with self.db.session() as s:
                for rid in ids:
                    deliveries.release(s, rid, self.worker, why)


@dataclass
class _Job:
    delivery_id: int
    subscription_id: int
    message: object
    interrupted: bool = False    # an earlier sender died with it: maybe delivered already


def _prepare(settings, db, data, claimed, worker, domain, ident) -> tuple[list[_Job], int, int]:
    """Choose and compose the batch's messages, then freeze their contents in one short write
    transaction (composing happens outside it, so the sender's ``sent`` commits never wait
    for it)."""
    from paperwire.store import deliveries, subscriptions

    jobs: list[_Job] = []
    now = dt.datetime.now(dt.UTC)
    fixes: list[tuple[int, int, list[dict], str]] = []
    skips: list[tuple[int, str]] = []
    fails: list[tuple[int, str]] = []
    with db.session() as s:
        subs = subscriptions.load_many(s, [c.subscription_id for c in claimed])
        subs = {k: (v.id, v.email, v.status, v.user_id, v.token_version, list(v.topics or []),
                    v.max_papers) for k, v in subs.items()}
        names = subscriptions.display_names(s, [x[3] for x in subs.values()])
        fresh = [c for c in claimed if c.paper_ids is None]
        sent = deliveries.already_sent(s, [c.subscription_id for c in fresh], data.all_ids())
        frozen_ids = {i["id"] for c in claimed if c.paper_ids for i in c.paper_ids
                      if isinstance(i, dict)}
        missing = [pid for pid in frozen_ids if pid not in data.papers]
        if missing:
            data.papers.update({r[0]: build._paper(r, data.base_url)
                                for r in deliveries.papers_by_id(s, missing)})
        follows = followed_authors.candidates(
            settings, s, {c.subscription_id: subs[c.subscription_id][3] for c in fresh
                          if c.subscription_id in subs},
            now=data.edition.send_at_utc, base_url=data.base_url)
    by_sub: dict[int, set[str]] = {}
    for sid, pid in sent:
        by_sub.setdefault(sid, set()).add(pid)
    for c in claimed:
        sub = subs.get(c.subscription_id)
        if sub is None or sub[2] != "active":
            skips.append((c.id, "subscription no longer active"))
            continue
        sid, email, _status, user_id, version, topics, max_papers = sub
        if c.paper_ids is None:
            trending, personal = build.choose(data, topics=topics, max_papers=max_papers,
                                              already=by_sub.get(sid, set()))
            followed = followed_authors.pick(
                follows.get(sid, ()), max_papers=max_papers,
                taken={p.id for p in trending} | {i.paper.id for i in personal})
            recs = recommended.choose(settings, db, data, user_id, exclude=by_sub.get(
                sid, set()) | {p.id for p in trending} | {i.paper.id for i in personal}
                | {i.paper.id for i in followed})
            mid = message_id("digest", f"{c.id}.{c.edition}.{c.period}", domain)
            fixes.append((c.id, sid, build.contents(trending, personal)
                          + followed_authors.contents(followed) + recommended.freeze(recs),
                          mid))
        else:
            frozen, followed = followed_authors.split_contents(c.paper_ids, data.papers)
            trending, personal = build.from_contents(frozen, data.papers)
            recs = recommended.thaw(c.paper_ids, data.papers)
            mid = c.message_id or message_id("digest", f"{c.id}.{c.edition}.{c.period}",
                                             domain)
        if not trending and not personal and not followed and not recs:
            skips.append((c.id, "nothing new for this subscriber"))
            continue
        digest = build.make_digest(settings, data, email=email, name=names.get(user_id),
                                   subscription_id=sid, token_version=version, topics=topics,
                                   trending=trending, personal=personal, followed=followed,
                                   recommended=recs)
        try:
            msg = compose_digest(digest, ident, date=now, msg_id=mid)
        except ComposeError as exc:
            fails.append((c.id, f"cannot compose: {exc}"))
            continue
        jobs.append(_Job(c.id, sid, msg, c.interrupted))
    with db.session() as s:
        deliveries.fix_contents_many(s, fixes)
        for rid, why in skips:
            deliveries.mark_skipped(s, rid, worker, why)
        for rid, why in fails:
            deliveries.mark_failed(s, rid, worker, why)
    return jobs, len(skips), len(fails)


def _deliver(settings, db, job: _Job, transport, worker, delays, sleep, summary,
             released: set[int], lock) -> bool:
    """Send one message; True when the server accepted it."""
    from paperwire.store import deliveries, subscriptions

    if job.interrupted:
        contains = getattr(transport, "contains", None)
        if contains is not None and contains(job.message):
            # The dead sender got it there (the outbox can tell): record it, send nothing.
            deliveries.mark_sent_now(db.engine, job.delivery_id, worker)
            with lock:
                summary.sent += 1
            return True
        log.warning("delivery %s: resending after an interrupted run with the same "
                    "Message-ID %s (the earlier attempt may have been delivered)",
                    job.delivery_id, job.message["Message-ID"])
        with lock:
            summary.resent += 1
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
            with lock:   # before the row is pending again, so this run does not retake it
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
                    s, job.subscription_id, str(exc),
                    pause_after=settings.digest_pause_after_failures)
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


def dry_run_edition(settings, db, ed: Edition, directory, *, progress: bool = True) -> RunSummary:
    """Write what ``send_edition`` would send now as .eml files; records nothing (no ledger
    rows, no sent papers). Message-IDs say ``dryrun`` since no delivery row exists."""
    from paperwire.digest.transport import DirectoryTransport
    from paperwire.store import deliveries, subscriptions

    ident = MailIdentity.from_settings(settings)
    domain = sender_domain(ident)
    out = DirectoryTransport(directory)
    t0 = time.monotonic()
    summary = RunSummary(ed.edition, ed.period)
    now = dt.datetime.now(dt.UTC)
    with db.session() as s:
        data = build.load_edition(settings, s, ed, db=db)
        ids = [sid for sid, _ in subscriptions.active_for_edition(s, ed.edition)]
    summary.candidates = len(data.papers)
    bar = _bar(len(ids), progress, f"{ed.edition} {ed.period} (dry run)")
    try:
        for start in range(0, len(ids), BATCH):
            chunk = ids[start:start + BATCH]
            with db.session() as s:
                subs = subscriptions.load_many(s, chunk)
                names = subscriptions.display_names(s, [x.user_id for x in subs.values()])
                sent = deliveries.already_sent(s, chunk, data.all_ids())
                done = deliveries.finished_subscriptions(s, ed.edition, ed.period, chunk)
                rows = [(x.id, x.email, x.user_id, x.token_version, list(x.topics or []),
                         x.max_papers) for x in subs.values()]
                follows = followed_authors.candidates(
                    settings, s, {x.id: x.user_id for x in subs.values()},
                    now=ed.send_at_utc, base_url=data.base_url)
            for sid, email, user_id, version, topics, max_papers in rows:
                bar.update(1)
                if sid in done:
                    summary.skipped += 1
                    continue
                trending, personal = build.choose(
                    data, topics=topics, max_papers=max_papers,
                    already={pid for s_id, pid in sent if s_id == sid})
                followed = followed_authors.pick(
                    follows.get(sid, ()), max_papers=max_papers,
                    taken={p.id for p in trending} | {i.paper.id for i in personal})
                recs = recommended.choose(settings, db, data, user_id, exclude={
                    pid for s_id, pid in sent if s_id == sid} | {p.id for p in trending}
                    | {i.paper.id for i in personal} | {i.paper.id for i in followed})
                if not trending and not personal and not followed and not recs:
                    summary.skipped += 1
                    continue
                digest = build.make_digest(settings, data, email=email, name=names.get(user_id),
                                           subscription_id=sid, token_version=version,
                                           topics=topics, trending=trending, personal=personal,
                                           followed=followed, recommended=recs)
                try:
                    msg = compose_digest(digest, ident, date=now, msg_id=message_id(
                        "dryrun", f"{sid}.{ed.edition}.{ed.period}", domain))
                except ComposeError as exc:
                    summary.failed += 1
                    summary.errors.append(str(exc))
                    continue
                out.send(msg)
                summary.sent += 1
    finally:
        bar.close()
        summary.elapsed = time.monotonic() - t0
    return summary


def _bar(total: int, enabled: bool, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, disable=not enabled, unit="msg", desc=desc, file=sys.stderr,
                dynamic_ncols=True)
