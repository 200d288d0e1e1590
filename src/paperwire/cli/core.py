"""`paperwire config | migrate | stats`."""

from __future__ import annotations

import click

from paperwire.cli.output import JsonAnswer, json_output
from paperwire.config import Settings


@click.command("config")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of a table.")
@click.option(
    "--markdown",
    is_flag=True,
    help="Print the settings table (defaults, not effective values) as Markdown.",
)
@click.pass_obj
@json_output(indent=2)
def config_cmd(settings: Settings, as_json: bool, markdown: bool) -> JsonAnswer:
    """Print the effective settings (secrets masked) with their help."""
    rows = settings.describe()
    if as_json:
        return {name: value for name, value, _, _ in rows}
    if markdown:
        click.echo(settings_markdown())
        return
    width = max(len(name) for name, *_ in rows)
    group = None
    for name, value, grp, help_text in rows:
        if grp != group:
            click.echo(f"\n[{grp}]")
            group = grp
        click.echo(f"{name:<{width}}  {value}")
        click.echo(f"{'':<{width}}  # {help_text}")


@click.command("migrate")
@click.pass_obj
def migrate_cmd(settings: Settings) -> None:
    """Apply pending database migrations (also done on every start)."""
    from paperwire.store.db import open_database
    from paperwire.store.migrate import current_revision, upgrade

    db = open_database(settings, migrate=False)
    applied = upgrade(db)
    click.echo(f"applied: {', '.join(applied)}" if applied else "database is up to date")
    click.echo(f"revision: {current_revision(db)}")


def settings_markdown() -> str:
    """The settings table as Markdown, from the defaults (what the README shows)."""
    from dataclasses import fields

    lines = ["| variable | default | what it does |", "| --- | --- | --- |"]
    for f in fields(Settings):
        default = f.default
        shown = "(empty)" if default == "" else str(default)
        help_text = f.metadata["help"].replace("|", "\\|")
        secret = (
            " Secret: also read from `PAPERWIRE_" + f.name.upper() + "_FILE`."
            if f.metadata["secret"]
            else ""
        )
        lines.append(f"| `PAPERWIRE_{f.name.upper()}` | `{shown}` | {help_text}{secret} |")
    return "\n".join(lines)


COMMANDS = [config_cmd, migrate_cmd]
