"""``paperwire digest send --dry-run``: what ``send_edition`` would send now, as .eml files."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from paperwire.config import Settings
from paperwire.digest import assemble, build, followed_authors
from paperwire.digest.compose import ComposeError, compose_digest, message_id, sender_domain
from paperwire.digest.edition import Edition
from paperwire.digest.model import MailIdentity
from paperwire.digest.progress import RunSummary, progress_bar
from paperwire.digest.recommended import Recommender
from paperwire.digest.sender import BATCH
from paperwire.digest.transport import DirectoryTransport
from paperwire.store import deliveries, subscriptions
from paperwire.store.db import Database


def dry_run_edition(
    settings: Settings,
    db: Database,
    ed: Edition,
    directory: Path,
    *,
    progress: bool = True,
    recommender: Recommender | None = None,
) -> RunSummary:
    """Write what ``send_edition`` would send now as .eml files; records nothing (no ledger
    rows, no sent papers). Message-IDs say ``dryrun`` since no delivery row exists."""
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
    bar = progress_bar(len(ids), progress, f"{ed.edition} {ed.period} (dry run)")
    try:
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            with db.session() as s:
                subs = subscriptions.load_many(s, chunk)
                names = subscriptions.display_names(s, [x.user_id for x in subs.values()])
                sent = deliveries.already_sent(s, chunk, data.all_ids())
                done = deliveries.finished_subscriptions(s, ed.edition, ed.period, chunk)
                recipients = [assemble.recipient(x, names) for x in subs.values()]
                follows = followed_authors.candidates(
                    settings,
                    s,
                    {x.id: x.user_id for x in subs.values()},
                    now=ed.send_at_utc,
                    base_url=data.base_url,
                )
            for to in recipients:
                bar.update(1)
                sid = to.subscription_id
                if sid in done:
                    summary.skipped += 1
                    continue
                parts = assemble.choose(
                    settings,
                    db,
                    data,
                    to,
                    already={pid for s_id, pid in sent if s_id == sid},
                    follows=follows.get(sid, ()),
                    recommender=recommender,
                )
                digest = assemble.assemble(settings, data, to, parts)
                if digest is None:
                    summary.skipped += 1
                    continue
                try:
                    msg = compose_digest(
                        digest,
                        ident,
                        date=now,
                        msg_id=message_id("dryrun", f"{sid}.{ed.edition}.{ed.period}", domain),
                    )
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
