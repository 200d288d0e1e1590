"""What each job does. Every job is idempotent: running it twice for the same key does the
work once (the digest ledger, the harvest checkpoint, embeddings keyed by content hash)."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from paperwire.config import Settings

if TYPE_CHECKING:
    from paperwire.store.db import Database

log = logging.getLogger(__name__)


def harvest(settings: Settings, db: Database, key: str) -> str:
    from paperwire.ingest.oai import harvest as oai_harvest
    from paperwire.search.notify import announcer

    summary = oai_harvest(
        settings,
        db,
        set_=settings.harvest_set or None,
        progress=False,
        on_change=announcer(settings, db),
    )
    return str(summary)


def embed(settings: Settings, db: Database, key: str) -> str:
    from paperwire.search.embedding_jobs import embed_pending

    n = embed_pending(settings, db, progress=False, wait=False)
    return f"{n} papers embedded"


def digest(
    settings: Settings,
    db: Database,
    key: str,
    *,
    enqueue_parts: Callable[[str], object] | None = None,
    parts: int = 1,
) -> str:
    """Plan the edition's ledger, then send (here, or in ``parts`` queued helpers that any
    worker may pick up: the ledger's claims keep each digest to one sender)."""
    from paperwire.digest.edition import edition_from_settings

    edition, day = key.split(":", 1)
    ed = edition_from_settings(settings, edition, dt.date.fromisoformat(day))
    if enqueue_parts is not None and parts > 1:
        from paperwire.store import deliveries, subscriptions

        with db.session() as s:
            ids = [sid for sid, _ in subscriptions.active_for_edition(s, ed.edition)]
            new = deliveries.plan(s, ed.edition, ed.period, ids)
        for i in range(parts):
            enqueue_parts(f"{key}#{i + 1}")
        return f"{new} deliveries planned for {ed.edition} {ed.period}; {parts} senders queued"
    return digest_part(settings, db, key)


def digest_part(settings: Settings, db: Database, key: str) -> str:
    from paperwire.digest.edition import edition_from_settings
    from paperwire.digest.send import send_edition
    from paperwire.digest.transport import open_transport
    from paperwire.services.recommendations import recommendations_for

    base = key.split("#", 1)[0]
    edition, day = base.split(":", 1)
    ed = edition_from_settings(settings, edition, dt.date.fromisoformat(day))
    with open_transport(settings) as transport:
        summary = send_edition(
            settings, db, ed, transport, progress=False, recommender=recommendations_for
        )
    if not summary.complete:
        raise RuntimeError(summary.line())
    return summary.line()


def notify_mail(settings: Settings, db: Database, key: str) -> str:
    """Batch each member's unsent notifications into one mail (``digest/notify.py``: the
    ledger makes a rerun send nothing twice)."""
    from paperwire.digest.notify import send_notifications
    from paperwire.digest.transport import open_transport

    with open_transport(settings) as transport:
        # A bar when the worker runs in a terminal (tqdm), none in logs.
        summary = send_notifications(settings, db, transport, progress=sys.stderr.isatty())
    if summary.retry_later:
        raise RuntimeError(summary.line())
    return summary.line()


def cleanup(settings: Settings, db: Database, key: str) -> str:
    """Expired sessions, old rate-limit events, never-confirmed subscriptions whose link has
    expired, and job runs older than 90 days."""
    from paperwire.store import jobs, ratelimit, subscriptions, users
    from paperwire.store.models import utcnow

    now = utcnow()
    with db.session() as s:
        sessions = users.purge_expired_sessions(s, now)
        rates = ratelimit.delete_before(s, now - dt.timedelta(days=1))
        pending = subscriptions.purge_unconfirmed(
            s, now - dt.timedelta(days=settings.token_max_age_days)
        )
        runs = jobs.prune(s, now - dt.timedelta(days=90))
    return (
        f"removed {sessions} expired sessions, {rates} rate events, {pending} unconfirmed "
        f"subscriptions, {runs} old job runs"
    )


def library_imports(settings: Settings, db: Database, key: str) -> str:
    """List imports that waited for arXiv: fetch them and add them to their lists."""
    from paperwire.services.library import complete_pending

    return complete_pending(settings, db)


def recommend(settings: Settings, db: Database, key: str) -> str:
    """Precompute every member-with-signals' recommendations (services/recommendations.py)."""
    from paperwire.services.recommendations import precompute_all

    members, stored = precompute_all(settings, db, progress=True)
    return f"recommendations for {members} members ({stored} papers)"


JOBS = {
    "harvest": harvest,
    "embed": embed,
    "digest": digest,
    "digest-send": digest_part,
    "notify-mail": notify_mail,
    "cleanup": cleanup,
    "recommend": recommend,
    "library-imports": library_imports,
}
