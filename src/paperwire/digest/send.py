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
import time
from collections.abc import Callable
from typing import Any

from paperwire.config import Settings
from paperwire.digest import assemble, build, followed_authors
from paperwire.digest.claimers import claimer_is_dead, worker_id
from paperwire.digest.compose import ComposeError, compose_digest, message_id, sender_domain
from paperwire.digest.dryrun import dry_run_edition
from paperwire.digest.edition import Edition
from paperwire.digest.model import MailIdentity
from paperwire.digest.progress import RunSummary, progress_bar
from paperwire.digest.recommended import Recommender
from paperwire.digest.sender import BATCH, Job, Sender
from paperwire.digest.transport import Transport
from paperwire.store import deliveries, subscriptions
from paperwire.store.db import Database

# The sending interface lives here; its parts in claimers, sender, progress and dryrun.
__all__ = ["BATCH", "RunSummary", "claimer_is_dead", "dry_run_edition", "send_edition", "worker_id"]


def send_edition(
    settings: Settings,
    db: Database,
    ed: Edition,
    transport: Transport,
    *,
    progress: bool = True,
    worker: str | None = None,
    sleep: Callable[[float], object] = time.sleep,
    pipeline: bool = True,
    recommender: Recommender | None = None,
) -> RunSummary:
    """Deliver one edition to every active subscriber that has not had it yet.

    ``pipeline``: a sender thread talks SMTP while this thread composes the next batch (one
    SMTP connection, so at most one message is ever between the server's 250 and our
    ``sent`` commit). Off: everything in the calling thread.
    """
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
    bar = progress_bar(todo, progress, f"{ed.edition} {ed.period}")
    delays = [
        settings.digest_retry_backoff_seconds * 2**i
        for i in range(max(0, settings.digest_retry_attempts))
    ]
    sender = Sender(settings, db, transport, worker, delays, sleep, summary, bar, threaded=pipeline)
    seen_claimers: set[str] = set()
    try:
        while not sender.failed:
            with db.session() as s:
                claimed = deliveries.claim(
                    s,
                    edition=ed.edition,
                    period=ed.period,
                    worker=worker,
                    limit=BATCH,
                    lease_seconds=settings.digest_sending_lease_seconds,
                    is_dead=claimer_is_dead,
                    exclude=sender.released_ids(),
                    seen_claimers=seen_claimers,
                )
            if not claimed:
                break
            sender.outstanding.update(c.id for c in claimed)
            jobs, n_skipped, n_failed = _prepare(
                settings, db, data, claimed, worker, domain, ident, recommender
            )
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


def _prepare(
    settings: Settings,
    db: Database,
    data: build.EditionData,
    claimed: list[deliveries.Claimed],
    worker: str,
    domain: str,
    ident: MailIdentity,
    recommender: Recommender | None,
) -> tuple[list[Job], int, int]:
    """Choose and compose the batch's messages, then freeze their contents in one short write
    transaction (composing happens outside it, so the sender's ``sent`` commits never wait
    for it)."""
    jobs: list[Job] = []
    now = dt.datetime.now(dt.UTC)
    fixes: list[tuple[int, int, list[dict[str, Any]], str]] = []
    skips: list[tuple[int, str]] = []
    fails: list[tuple[int, str]] = []
    with db.session() as s:
        subs = subscriptions.load_many(s, [c.subscription_id for c in claimed])
        names = subscriptions.display_names(s, [x.user_id for x in subs.values()])
        active = {k: assemble.recipient(v, names) for k, v in subs.items() if v.status == "active"}
        fresh = [c for c in claimed if c.paper_ids is None]
        sent = deliveries.already_sent(s, [c.subscription_id for c in fresh], data.all_ids())
        frozen_ids = {
            i["id"] for c in claimed if c.paper_ids for i in c.paper_ids if isinstance(i, dict)
        }
        missing = [pid for pid in frozen_ids if pid not in data.papers]
        if missing:
            data.papers.update(
                {
                    r[0]: build.paper_from_row(r, data.base_url)
                    for r in deliveries.papers_by_id(s, missing)
                }
            )
        follows = followed_authors.candidates(
            settings,
            s,
            {
                c.subscription_id: active[c.subscription_id].user_id
                for c in fresh
                if c.subscription_id in active
            },
            now=data.edition.send_at_utc,
            base_url=data.base_url,
        )
    # The batch's topics embedded together (only speed changes, see TopicSearch.prefetch).
    data.topics.prefetch(
        t for c in fresh if c.subscription_id in active for t in active[c.subscription_id].topics
    )
    by_sub: dict[int, set[str]] = {}
    for sid, pid in sent:
        by_sub.setdefault(sid, set()).add(pid)
    for c in claimed:
        to = active.get(c.subscription_id)
        if to is None:
            skips.append((c.id, "subscription no longer active"))
            continue
        sid = to.subscription_id
        if c.paper_ids is None:
            parts = assemble.choose(
                settings,
                db,
                data,
                to,
                already=by_sub.get(sid, set()),
                follows=follows.get(sid, ()),
                recommender=recommender,
            )
            mid = message_id("digest", f"{c.id}.{c.edition}.{c.period}", domain)
            fixes.append((c.id, sid, parts.contents(), mid))
        else:
            parts = assemble.thaw(data, c.paper_ids)
            mid = c.message_id or message_id("digest", f"{c.id}.{c.edition}.{c.period}", domain)
        digest = assemble.assemble(settings, data, to, parts)
        if digest is None:
            skips.append((c.id, "nothing new for this subscriber"))
            continue
        try:
            msg = compose_digest(digest, ident, date=now, msg_id=mid)
        except ComposeError as exc:
            fails.append((c.id, f"cannot compose: {exc}"))
            continue
        jobs.append(Job(c.id, sid, msg, c.interrupted))
    with db.session() as s:
        deliveries.fix_contents_many(s, fixes)
        for rid, why in skips:
            deliveries.mark_skipped(s, rid, worker, why)
        for rid, why in fails:
            deliveries.mark_failed(s, rid, worker, why)
    return jobs, len(skips), len(fails)
