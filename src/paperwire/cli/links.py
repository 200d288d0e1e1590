"""`paperwire links backfill`: links to code and resources for papers stored before them."""

from __future__ import annotations

import sys

import click

from paperwire.cli.output import batch_size_option, progress_option, show_progress
from paperwire.config import Settings


@click.group("links")
def links_group() -> None:
    """Links to code, models, datasets, demos, project pages and videos of papers."""


@links_group.command("backfill")
@batch_size_option
@progress_option
@click.pass_obj
def backfill_cmd(settings: Settings, batch_size: int, progress: bool | None) -> None:
    """Extract the links named in every stored paper's abstract and arXiv comment (and the
    demo seed's code links). Idempotent: a rerun adds nothing twice and never brings back a
    link an admin removed; an interrupted run is simply run again."""
    from tqdm import tqdm

    from paperwire.services.links import backfill, paper_count
    from paperwire.store.db import open_database

    db = open_database(settings)
    show = show_progress(progress)
    with tqdm(
        total=paper_count(db), unit="papers", disable=not show, file=sys.stderr, desc="links"
    ) as bar:

        def advance(n: int) -> None:
            bar.update(n)

        result = backfill(db, batch_size=batch_size, progress=advance)
    click.echo(
        f"links backfill: {result.papers} papers read, {result.changed} with new or changed links"
    )


COMMANDS = [links_group]
