"""`paperwire user create | token | list | admin | disable`: accounts from the command line.

The first administrator is made here (`paperwire user create --admin NAME`); sign-ups on the
site are never administrators.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from paperwire.config import Settings
from paperwire.errors import NotFound

if TYPE_CHECKING:
    from paperwire.store.db import Database
    from paperwire.store.models import User


def _read_password(password_file) -> str:
    if password_file is not None:
        # The first line, without its newline: `echo pass > file` must work as expected.
        text = password_file.read()
        return text.splitlines()[0] if text else ""
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _find(db: Database, username: str) -> User:
    from paperwire.store.users import get_user_by_username

    with db.session() as session:
        user = get_user_by_username(session, username)
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


@click.group("user")
def user_group() -> None:
    """Manage accounts: create users and administrators, API tokens."""


@user_group.command("create")
@click.argument("username")
@click.option("--email", default=None, help="E-mail address (optional).")
@click.option(
    "--admin", is_flag=True, help="Make the user an administrator (moderates papers and comments)."
)
@click.option(
    "--password-file",
    type=click.File("r"),
    default=None,
    help="Read the password from this file ('-' for stdin); without it, prompt.",
)
@click.pass_obj
def create_cmd(settings: Settings, username, email, admin, password_file) -> None:
    """Create an account; the first one is usually `--admin`."""
    from paperwire.store.db import open_database
    from paperwire.web import auth

    password = _read_password(password_file)
    db = open_database(settings)
    try:
        user = auth.create_user(
            db, username, password, email=email, is_admin=admin, allow_reserved=True
        )
    finally:
        db.dispose()
    role = "administrator" if user.is_admin else "user"
    click.echo(f"created {role} {user.username} (id {user.id})")


@user_group.command("token")
@click.argument("username")
@click.option("--name", default="cli", show_default=True, help="A label for the token.")
@click.pass_obj
def token_cmd(settings: Settings, username, name) -> None:
    """Create a personal API token and print it (only this once) on stdout."""
    from paperwire.store.db import open_database
    from paperwire.web import auth

    db = open_database(settings)
    try:
        user = _find(db, username)
        token = auth.new_api_token(db, user.id, name)
    finally:
        db.dispose()
    click.echo(
        f"API token {token.name!r} for {user.username} (id {token.id}); it is shown only once:",
        err=True,
    )
    click.echo(token.token)


@user_group.command("list")
@click.pass_obj
def list_cmd(settings: Settings) -> None:
    """List accounts."""
    from paperwire.store.db import open_database
    from paperwire.store.users import list_users

    db = open_database(settings)
    try:
        with db.session() as session:
            users = list_users(session)
    finally:
        db.dispose()
    for user in users:
        flags = [f for f, on in (("admin", user.is_admin), ("disabled", user.disabled)) if on]
        click.echo(
            f"{user.id:>6}  {user.username:<32}  {user.email or '-':<32}  {','.join(flags) or '-'}"
        )
    click.echo(f"{len(users)} user{'s' if len(users) != 1 else ''}", err=True)


def _set_flag(settings: Settings, username: str, setter_name: str, value: bool) -> User:
    """Set one of a user's flags (``store.users.set_admin`` / ``set_disabled``)."""
    from paperwire.store import users as user_store
    from paperwire.store.db import open_database

    setter = {"admin": user_store.set_admin, "disabled": user_store.set_disabled}[setter_name]
    db = open_database(settings)
    try:
        user = _find(db, username)
        with db.session() as session:
            setter(session, user.id, value)
    finally:
        db.dispose()
    return user


@user_group.command("admin")
@click.argument("username")
@click.option("--revoke", is_flag=True, help="Take the administrator role away instead.")
@click.pass_obj
def admin_cmd(settings: Settings, username: str, revoke: bool) -> None:
    """Make a user an administrator (or, with --revoke, not)."""
    user = _set_flag(settings, username, "admin", not revoke)
    click.echo(f"{user.username} is {'no longer ' if revoke else ''}an administrator")


@user_group.command("disable")
@click.argument("username")
@click.option("--enable", is_flag=True, help="Re-enable the account instead.")
@click.pass_obj
def disable_cmd(settings: Settings, username: str, enable: bool) -> None:
    """Disable an account (signs it out everywhere; its API tokens stop working)."""
    user = _set_flag(settings, username, "disabled", not enable)
    click.echo(f"{user.username} is {'enabled' if enable else 'disabled'}")


__all__ = ["user_group"]
