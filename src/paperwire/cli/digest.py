"""`paperwire digest send|preview`, `paperwire subscribe`, `paperwire worker`, `paperwire jobs`."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from paperwire.errors import BadInput


def _day(value: str | None, settings) -> dt.date:
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
@click.option("--edition", type=click.Choice(["daily", "weekly"]), default="daily",
              show_default=True)
@click.option("--date", "date_", metavar="YYYY-MM-DD",
              help="Send day of the edition (default: today in TIMEZONE).")
@click.option("--dry-run", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Write .eml files to DIR instead of mailing (nothing is recorded).")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.pass_obj
def send_cmd(settings, edition: str, date_: str | None, dry_run: Path | None,
             no_progress: bool) -> None:
    """Send one edition to every confirmed subscriber that has not had it.

    Safe to rerun at any time (also after a crash): each subscriber gets each edition once.
    """
    from paperwire.digest.edition import edition_from_settings
    from paperwire.digest.send import send_edition
    from paperwire.digest.transport import open_transport
    from paperwire.store.db import open_database

    ed = edition_from_settings(settings, edition, _day(date_, settings))
    db = open_database(settings)
    if dry_run is not None:
        # A dry run must not touch the real ledger: the same code runs inside a transaction
        # that is rolled back at the end.
        summary = _dry_run(settings, db, ed, dry_run, not no_progress)
    else:
        with open_transport(settings) as transport:
            summary = send_edition(settings, db, ed, transport, progress=not no_progress)
    click.echo(summary.line())
    for err in summary.errors[:5]:
        click.echo(f"  {err}", err=True)
    if not summary.complete:
        sys.exit(3)


def _dry_run(settings, db, ed, directory: Path, progress: bool):
    """Compose every message as the real run would, write .eml files, record nothing."""
    from paperwire.digest.send import send_edition
    from paperwire.digest.transport import DirectoryTransport

    class _RollbackDb:
        """The real database, but every transaction is rolled back."""

        def __init__(self, inner):
            self.inner = inner
            self.dialect = inner.dialect
            self.conn = inner.engine.connect()
            self.outer = self.conn.begin()

        def session(self):
            import contextlib

            from sqlalchemy.orm import Session

            @contextlib.contextmanager
            def _s():
                s = Session(bind=self.conn, join_transaction_mode="create_savepoint")
                try:
                    yield s
                    s.commit()
                except BaseException:
                    s.rollback()
                    raise
                finally:
                    s.close()
            return _s()

        def close(self):
            self.outer.rollback()
            self.conn.close()

    shadow = _RollbackDb(db)
    try:
        return send_edition(settings, shadow, ed, DirectoryTransport(directory),
                            progress=progress)
    finally:
        shadow.close()


@digest_group.command("preview")
@click.argument("email")
@click.option("--edition", type=click.Choice(["daily", "weekly"]), default="daily",
              show_default=True)
@click.option("--date", "date_", metavar="YYYY-MM-DD")
@click.option("--html", is_flag=True, help="Print the HTML part instead of the text part.")
@click.option("--eml", is_flag=True, help="Print the whole message as sent (headers too).")
@click.pass_obj
def preview_cmd(settings, email: str, edition: str, date_: str | None, html: bool,
                eml: bool) -> None:
    """Print the digest EMAIL would get now (nothing is sent or recorded)."""
    from paperwire.digest.edition import edition_from_settings
    from paperwire.digest.mailer import preview
    from paperwire.store.db import open_database

    ed = edition_from_settings(settings, edition, _day(date_, settings))
    digest, msg, status = preview(settings, open_database(settings), email, ed)
    if status != "active":
        click.echo(f"note: this subscription is {status}; nothing is sent to it", err=True)
    if digest.is_empty:
        click.echo("note: nothing new for this subscriber: no message would be sent", err=True)
    if eml:
        click.echo(msg.as_string())
        return
    part = msg.get_body(("html",) if html else ("plain",))
    click.echo(f"Subject: {msg['Subject']}\nTo: {msg['To']}\n")
    click.echo(part.get_content())


@click.command("subscribe")
@click.argument("email")
@click.option("--confirmed", is_flag=True,
              help="Activate at once (the operator vouches for the address) instead of "
                   "mailing a confirmation link.")
@click.option("--edition", type=click.Choice(["daily", "weekly", "both"]), default="daily",
              show_default=True)
@click.option("--topic", "topics", multiple=True, metavar="QUERY",
              help="A saved search, e.g. '\"single-cell\" cat:q-bio.*' (repeatable).")
@click.pass_obj
def subscribe_cmd(settings, email: str, confirmed: bool, edition: str, topics) -> None:
    """Subscribe EMAIL to the digest (for operators)."""
    from paperwire.digest.mailer import send_confirmation
    from paperwire.digest.topics import validate_topics
    from paperwire.store import subscriptions
    from paperwire.store.db import open_database

    clean = validate_topics([{"kind": "query", "value": t} for t in topics])
    db = open_database(settings)
    with db.session() as s:
        sub, needs = subscriptions.subscribe(s, email, editions=edition, topics=clean or None)
        if confirmed:
            subscriptions.confirm(s, sub.id, sub.token_version)
            needs = False
        sid, version, addr, status = sub.id, sub.token_version, sub.email, sub.status
    if needs:
        send_confirmation(settings, email=addr, subscription_id=sid, token_version=version)
        click.echo(f"{addr}: confirmation link mailed (subscription {sid}, {status})")
    else:
        click.echo(f"{addr}: subscription {sid} is {status}")


COMMANDS = [digest_group, subscribe_cmd]
