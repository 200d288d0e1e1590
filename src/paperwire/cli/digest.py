"""`paperwire digest send|preview`, `paperwire subscribe`, `paperwire worker`, `paperwire jobs`."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from paperwire.config import Settings
from paperwire.errors import BadInput

if TYPE_CHECKING:
    from paperwire.store.db import Database


def _day(value: str | None, settings: Settings) -> dt.date:
    from paperwire.digest.edition import today_local

    if not value:
        return today_local(settings.timezone)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"--date must be YYYY-MM-DD, not {value!r}") from None


@click.group("digest")
def digest_group() -> None:
    """Email digests: send an edition, preview one subscriber's digest."""


@digest_group.command("send")
@click.option(
    "--edition", type=click.Choice(["daily", "weekly"]), default="daily", show_default=True
)
@click.option(
    "--date",
    "date_",
    metavar="YYYY-MM-DD",
    help="Send day of the edition (default: today in TIMEZONE).",
)
@click.option(
    "--dry-run",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Write .eml files to DIR instead of mailing (nothing is recorded).",
)
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.pass_obj
def send_cmd(
    settings: Settings, edition: str, date_: str | None, dry_run: Path | None, no_progress: bool
) -> None:
    """Send one edition to every confirmed subscriber that has not had it.

    Safe to rerun at any time (also after a crash): each subscriber gets each edition once.
    """
    from paperwire.digest.edition import edition_from_settings
    from paperwire.digest.send import send_edition
    from paperwire.digest.transport import open_transport
    from paperwire.services.recommendations import recommendations_for
    from paperwire.store.db import open_database

    ed = edition_from_settings(settings, edition, _day(date_, settings))
    db = open_database(settings)
    if dry_run is not None:
        # A dry run composes exactly what the real run would, but never touches the ledger.
        summary = _dry_run(settings, db, ed, dry_run, not no_progress)
    else:
        with open_transport(settings) as transport:
            summary = send_edition(
                settings,
                db,
                ed,
                transport,
                progress=not no_progress,
                recommender=recommendations_for,
            )
        from paperwire.digest.transport import describe_mail

        click.echo(describe_mail(settings), err=True)
    click.echo(summary.line())
    for err in summary.errors[:5]:
        click.echo(f"  {err}", err=True)
    if not summary.complete:
        sys.exit(3)


@digest_group.command("notify")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.pass_obj
def notify_cmd(settings: Settings, no_progress: bool) -> None:
    """Mail members their unsent notifications, one batched mail each (what the worker's
    notify-mail job does every NOTIFY_MAIL_INTERVAL_MINUTES). Safe to rerun: nothing is
    sent twice."""
    from paperwire.digest.notify import send_notifications
    from paperwire.digest.transport import describe_mail, open_transport
    from paperwire.store.db import open_database

    db = open_database(settings)
    with open_transport(settings) as transport:
        summary = send_notifications(settings, db, transport, progress=not no_progress)
    click.echo(describe_mail(settings), err=True)
    click.echo(summary.line())
    for err in summary.errors[:5]:
        click.echo(f"  {err}", err=True)
    if summary.retry_later:
        sys.exit(3)


def _dry_run(settings: Settings, db: Database, ed, directory: Path, progress: bool):
    from paperwire.digest.send import dry_run_edition
    from paperwire.services.recommendations import recommendations_for

    return dry_run_edition(
        settings, db, ed, directory, progress=progress, recommender=recommendations_for
    )


@digest_group.command("preview")
@click.argument("email")
@click.option(
    "--edition", type=click.Choice(["daily", "weekly"]), default="daily", show_default=True
)
@click.option("--date", "date_", metavar="YYYY-MM-DD")
@click.option("--html", is_flag=True, help="Print the HTML part instead of the text part.")
@click.option("--eml", is_flag=True, help="Print the whole message as sent (headers too).")
@click.pass_obj
def preview_cmd(
    settings: Settings, email: str, edition: str, date_: str | None, html: bool, eml: bool
) -> None:
    """Print the digest EMAIL would get now (nothing is sent or recorded)."""
    from paperwire.digest.edition import edition_from_settings
    from paperwire.digest.mailer import preview
    from paperwire.services.recommendations import recommendations_for
    from paperwire.store.db import open_database

    ed = edition_from_settings(settings, edition, _day(date_, settings))
    digest, msg, status = preview(
        settings, open_database(settings), email, ed, recommender=recommendations_for
    )
    if status != "active":
        click.echo(f"note: this subscription is {status}; nothing is sent to it", err=True)
    if digest.is_empty:
        click.echo("note: nothing new for this subscriber: no message would be sent", err=True)
    if eml:
        click.echo(msg.as_string())
        return
    part = msg.get_body(("html",) if html else ("plain",))
    # compose always writes both a plain and an HTML part; None would be a composer bug.
    assert part is not None, "the digest message has no plain/HTML body"
    click.echo(f"Subject: {msg['Subject']}\nTo: {msg['To']}\n")
    click.echo(part.get_content())


@click.command("subscribe")
@click.argument("email")
@click.option(
    "--confirmed",
    is_flag=True,
    help="Activate at once (the operator vouches for the address) instead of "
    "mailing a confirmation link.",
)
@click.option(
    "--edition", type=click.Choice(["daily", "weekly", "both"]), default="daily", show_default=True
)
@click.option(
    "--topic",
    "topics",
    multiple=True,
    metavar="QUERY",
    help="A saved search, e.g. '\"single-cell\" cat:q-bio.*' (repeatable).",
)
@click.pass_obj
def subscribe_cmd(settings: Settings, email: str, confirmed: bool, edition: str, topics) -> None:
    """Subscribe EMAIL to the digest (for operators)."""
    from paperwire.digest.topics import validate_topics
    from paperwire.services import subscriptions as service
    from paperwire.store import subscriptions
    from paperwire.store.db import open_database

    clean = validate_topics([{"kind": "query", "value": t} for t in topics])
    db = open_database(settings)
    # The operator asks: no per-address limit, and the mail goes out at once (after commit).
    result = service.request(
        settings, db, email, editions=edition, topics=clean or None, limited=False
    )
    if confirmed:
        with db.session() as s:
            sub = subscriptions.get_by_email(s, result.email)
            assert sub is not None, "service.request stored the subscription"
            subscriptions.confirm(s, sub.id, sub.token_version)
    with db.session() as s:
        sub = subscriptions.get_by_email(s, result.email)
        assert sub is not None, "service.request stored the subscription"
        sid, addr, status = sub.id, sub.email, sub.status
    if result.mail is not None and not confirmed:
        from paperwire.digest.transport import describe_mail

        service.deliver(settings, result.mail, raise_errors=True)
        click.echo(f"{addr}: confirmation link mailed (subscription {sid}, {status})")
        click.echo(describe_mail(settings), err=True)
    else:
        click.echo(f"{addr}: subscription {sid} is {status}")


@click.command("worker")
@click.option(
    "--once",
    is_flag=True,
    help="Enqueue what is due now, run the queue until it is empty, and exit (for cron).",
)
@click.pass_obj
def worker_cmd(settings: Settings, once: bool) -> None:
    """Run the scheduled jobs: harvest, embed/index, digests, cleanup.

    Embedded default: the queue and schedule live in DATA_DIR/queue.db (nothing else to run).
    With PAPERWIRE_QUEUE_URL=redis://... several workers share the jobs; each runs once.
    """
    from paperwire.jobs.queue import Queue
    from paperwire.store.db import open_database

    queue = Queue(settings, open_database(settings))
    target = (
        settings.queue_url.split("@")[-1]
        if settings.queue_url
        else str(settings.data_dir / "queue.db")
    )
    click.echo(
        f"worker: queue {settings.queue_name!r} on {target}, timezone "
        f"{settings.timezone}, digests {settings.digest_daily_time} (weekdays) / "
        f"{settings.digest_weekly_time} (Mondays), harvest {settings.harvest_time}",
        err=True,
    )
    from paperwire.digest.transport import describe_mail

    click.echo(describe_mail(settings), err=True)
    if once:
        queued = queue.tick()
        done = 0
        while True:
            task = queue.huey.dequeue()
            if task is None:
                break
            queue.huey.execute(task)
            done += 1
        click.echo(f"ran {done} queued tasks ({len(queued)} due now)")
        return
    queue.consume()


@click.group("jobs", invoke_without_command=True)
@click.option("--limit", default=30, show_default=True)
@click.option("--failed", is_flag=True, help="Only failures.")
@click.pass_context
def jobs_group(ctx, limit: int, failed: bool) -> None:
    """List recent job runs and failures (or enqueue/run one: see the subcommands)."""
    if ctx.invoked_subcommand is not None:
        return
    from paperwire.store import jobs
    from paperwire.store.db import open_database

    settings = ctx.obj
    db = open_database(settings)
    with db.session() as s:
        runs = jobs.recent(s, limit=limit, failed_only=failed)
        if not runs:
            click.echo("no job runs yet")
            return
        for r in runs:
            took = ""
            if r.finished_at:
                took = f"{(r.finished_at - r.started_at).total_seconds():.1f}s"
            line = (
                f"{r.started_at:%Y-%m-%d %H:%M:%S}  {r.status:<7} {r.name:<12} "
                f"{r.key:<28} {took:>7}  x{r.attempts}  {r.detail or ''}"
            )
            click.echo(line.rstrip())
            if r.error:
                click.echo(f"    error: {r.error.splitlines()[0]}")


@jobs_group.command("enqueue")
@click.argument("name")
@click.argument("key")
@click.pass_obj
def jobs_enqueue(settings: Settings, name: str, key: str) -> None:
    """Put job NAME with KEY (e.g. digest daily:2026-11-26) on the queue for the workers."""
    from paperwire.jobs.definitions import JOBS
    from paperwire.jobs.queue import Queue

    if name not in JOBS:
        raise BadInput(f"unknown job {name!r}; jobs: {', '.join(sorted(JOBS))}")
    Queue(settings).enqueue(name, key)
    click.echo(f"queued {name} {key}")


@jobs_group.command("run")
@click.argument("name")
@click.argument("key")
@click.pass_obj
def jobs_run(settings: Settings, name: str, key: str) -> None:
    """Run job NAME with KEY here and now (under the same once-only ledger)."""
    from paperwire.jobs.runner import run_job
    from paperwire.store.db import open_database

    outcome = run_job(settings, open_database(settings), name, key)
    click.echo(f"{name} {key}: {outcome}")
    if outcome == "failed":
        sys.exit(1)


COMMANDS = [digest_group, subscribe_cmd, worker_cmd, jobs_group]
