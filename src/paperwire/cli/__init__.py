"""The `paperwire` command line.

Each area registers its commands from its own module; heavy imports (models, web server)
happen inside the command functions so that `paperwire --help` stays instant.
"""

from __future__ import annotations

import logging
import sys

import click

from paperwire.config import SettingsError, load_settings
from paperwire.errors import PaperwireError


class Group(click.Group):
    """Turns expected failures into a one-line reason and a non-zero exit code."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (PaperwireError, SettingsError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(getattr(exc, "exit_code", 2))
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="paperwire")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Paperwire: your community's Daily Papers.

    Settings come from PAPERWIRE_* environment variables; `paperwire config` lists them.
    """
    try:
        settings = load_settings()
    except SettingsError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    logging.basicConfig(
        level=getattr(logging, settings.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Alembic narrates every step at INFO; only its warnings matter to a user.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    ctx.obj = settings


def _register() -> None:
    from paperwire.cli import authors, core, digest, ingest, links, recommend, search, web

    for module in (core, ingest, search, web, digest, links, authors, recommend):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
