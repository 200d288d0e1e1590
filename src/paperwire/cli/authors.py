"""`paperwire authors claims | approve | revoke | reindex`: authorship claims from the command
line (the same rules as the admin page, ``services.authors``), and rebuilding the author
index."""

from __future__ import annotations

import sys

import click

from paperwire.cli.output import batch_size_option, json_output, progress_option, show_progress
from paperwire.config import Settings


@click.group("authors")
def authors_group() -> None:
    """Authors: authorship claims (list, approve, revoke) and the author-name index."""


def _row(view) -> dict:
    return {
        "id": view.id,
        "user": view.username,
        "name": view.name,
        "strictKey": view.strict_key,
        "status": view.status,
        "rule": view.rule,
        "createdAt": view.created_at.isoformat(timespec="seconds") + "Z",
    }


@authors_group.command("claims")
@click.option(
    "--status",
    type=click.Choice(["pending", "approved", "released", "revoked"]),
    default=None,
    help="Only claims in this state (default: all, pending first).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a list of claims).")
@click.pass_obj
@json_output(indent=2)
def claims_cmd(settings: Settings, status: str | None, as_json: bool):
    """List authorship claims."""
    from paperwire.services.authors import list_claims
    from paperwire.store.db import open_database

    db = open_database(settings)
    try:
        rows = [_row(v) for v in list_claims(db, status)]
    finally:
        db.dispose()
    if as_json:
        return rows
    if not rows:
        click.echo("no claims" + (f" with status {status}" if status else ""))
        return None
    for r in rows:
        rule = f" ({r['rule']})" if r["rule"] else ""
        click.echo(
            f"{r['id']:>6}  {r['status']:<9}{rule:<16} @{r['user']} claims "
            f"{r['name']!r}  since {r['createdAt'][:10]}"
        )
    return None


def _decide(settings: Settings, action: str, claim_id: int) -> None:
    from paperwire.services import authors as service
    from paperwire.store.db import open_database

    db = open_database(settings)
    try:
        view = getattr(service, action)(db, service.OPERATOR, claim_id)
    finally:
        db.dispose()
    click.echo(f"claim {view.id}: @{view.username} as {view.name!r} is {view.status}")


@authors_group.command("approve")
@click.argument("claim_id", type=click.IntRange(1))
@click.pass_obj
def approve_cmd(settings: Settings, claim_id: int) -> None:
    """Approve a pending claim (its member's name then links to their profile)."""
    _decide(settings, "approve", claim_id)


@authors_group.command("revoke")
@click.argument("claim_id", type=click.IntRange(1))
@click.pass_obj
def revoke_cmd(settings: Settings, claim_id: int) -> None:
    """Revoke an approved claim, or refuse a pending one (idempotent)."""
    _decide(settings, "revoke", claim_id)


@authors_group.command("reindex")
@batch_size_option
@progress_option
@click.pass_obj
def reindex_cmd(settings: Settings, batch_size: int, progress: bool | None) -> None:
    """Rebuild the author-name index (paper_authors) from every paper's authors: after a
    change to the name normalisation, or to repair it. Idempotent; safe to interrupt."""
    from tqdm import tqdm

    from paperwire.store import authors as store
    from paperwire.store.db import open_database

    db = open_database(settings)
    show = show_progress(progress)
    try:
        with db.session() as s:
            from paperwire.store.papers import count_papers

            total = count_papers(s)
        done = 0
        with tqdm(
            total=total, unit="papers", disable=not show, file=sys.stderr, desc="authors"
        ) as bar:
            for ids, rows in store.iter_author_rows(db, batch_size):
                with db.session() as s:
                    store.replace_paper_authors(s, rows, replace_ids=ids)
                done += len(ids)
                bar.update(len(ids))
    finally:
        db.dispose()
    click.echo(f"authors reindex: {done} papers indexed")


COMMANDS = [authors_group]
