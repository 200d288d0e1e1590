"""`paperwire import | export | harvest | fetch | stats`: getting papers in and out."""

from __future__ import annotations

import sys

import click

from paperwire.cli.output import JsonAnswer, json_output
from paperwire.config import Settings

FORMAT_CHOICES = ["auto", "kaggle", "hf-daily", "jsonl", "beir", "seed"]


def _open(settings: Settings):
    from paperwire.store.db import open_database

    return open_database(settings)


def _progress_default() -> bool:
    return sys.stderr.isatty()


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMAT_CHOICES),
    default="auto",
    show_default=True,
    help="Input format. auto recognises it from the first record: kaggle = the arXiv "
    "metadata snapshot, hf-daily = the Daily Papers API JSON, jsonl = "
    "`paperwire export` output, beir = a BEIR corpus, seed = the demo seed.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 1_000_000),
    default=None,
    help="Records per transaction (default: PAPERWIRE_IMPORT_BATCH_SIZE).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a progress bar on stderr (default: when stderr is a terminal).",
)
@click.pass_obj
def import_cmd(settings: Settings, paths, fmt, batch_size, progress) -> None:
    """Import papers from dump files (plain or .gz), streaming and in batches.

    Malformed records are reported as FILE:LINE: reason and skipped. Re-importing the same
    data changes nothing; an interrupted import resumes where it stopped when rerun.
    Prints new / updated / unchanged / rejected at the end.
    """
    from paperwire.ingest.importer import import_paths
    from paperwire.search.notify import announcer

    db = _open(settings)
    summary = import_paths(
        settings,
        db,
        paths,
        fmt,
        progress=_progress_default() if progress is None else progress,
        batch_size=batch_size,
        on_change=announcer(settings, db),
    )
    for where in summary.resumed:
        click.echo(f"resumed {where}", err=True)
    click.echo(f"imported {summary.files} file(s): {summary.line()}")


@click.command("export")
@click.argument(
    "path", required=False, default="-", type=click.Path(dir_okay=False, allow_dash=True)
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a progress bar on stderr (default: when stderr is a terminal).",
)
@click.pass_obj
def export_cmd(settings: Settings, path, progress) -> None:
    """Write every paper as JSON Lines to PATH (default: - for stdout).

    The output re-imports losslessly with `paperwire import` (metadata, imported upvotes,
    feed entries). A .gz PATH is compressed.
    """
    from paperwire.ingest.exporter import export_papers

    db = _open(settings)
    count = export_papers(db, path, progress=_progress_default() if progress is None else progress)
    click.echo(f"exported {count} papers to {'stdout' if path == '-' else path}", err=True)


@click.command("harvest")
@click.option(
    "--from",
    "from_",
    metavar="DATE",
    help="First datestamp (YYYY-MM-DD). Default: the last harvested datestamp, so "
    "a daily call picks up where the previous one ended.",
)
@click.option("--until", metavar="DATE", help="Last datestamp (YYYY-MM-DD). Default: today.")
@click.option(
    "--set",
    "set_",
    metavar="SET",
    help="OAI-PMH set such as cs or physics:hep-th (default: PAPERWIRE_HARVEST_SET).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show progress on stderr (default: when stderr is a terminal).",
)
@click.pass_obj
def harvest_cmd(settings: Settings, from_, until, set_, progress) -> None:
    """Harvest new and changed papers from arXiv's OAI-PMH interface.

    Follows resumption tokens, honours 503 Retry-After, waits PAPERWIRE_ARXIV_DELAY_SECONDS
    between requests and checkpoints after every page: an interrupted harvest resumes at the
    same page when run again.
    """
    from paperwire.ingest.oai import harvest
    from paperwire.search.notify import announcer

    db = _open(settings)
    summary = harvest(
        settings,
        db,
        from_=from_,
        until=until,
        set_=set_,
        progress=_progress_default() if progress is None else progress,
        on_change=announcer(settings, db),
    )
    click.echo(f"harvested {summary.pages} page(s): {summary.line()}")


@click.command("fetch")
@click.argument("ids", nargs=-1, required=True, metavar="ARXIV_ID_OR_URL...")
@click.pass_obj
def fetch_cmd(settings: Settings, ids) -> None:
    """Fetch papers from the arXiv API by id or URL and store them.

    Accepts 2104.12255, 2104.12255v2, hep-th/9901001, arXiv:2104.12255 and
    arxiv.org/abs/... or /pdf/... URLs. An invalid or unknown id is an error.
    """
    from paperwire.ingest.arxiv_api import fetch_many
    from paperwire.search.notify import announcer

    db = _open(settings)
    results = fetch_many(settings, db, list(ids), on_change=announcer(settings, db))
    for paper_id, status in results:
        click.echo(f"{paper_id}\t{status}")


@click.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@click.pass_obj
@json_output(indent=2)
def stats_cmd(settings: Settings, as_json: bool) -> JsonAnswer:
    """Show how many papers, feed entries, users, votes, comments, subscriptions,
    paper embeddings and abstract-sentence vectors the database holds, and when arXiv was
    last harvested."""
    from paperwire.store.stats import collect_stats

    db = _open(settings)
    with db.session() as session:
        stats = collect_stats(session)
    if as_json:
        return stats
    width = max(len(k) for k in stats)
    for key, value in stats.items():
        click.echo(f"{key.replace('_', ' '):<{width}}  {value if value is not None else '-'}")


COMMANDS = [import_cmd, export_cmd, harvest_cmd, fetch_cmd, stats_cmd]
