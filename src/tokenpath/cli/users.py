"""``tokenpath user``: end users who sign in at the authorization server.

A password never appears on the command line (where ``ps`` and shell history would keep it): it
is prompted for twice, or read from standard input with ``--password-stdin``.
"""

from __future__ import annotations

import sys

import click

from tokenpath.cli.base import Group, run_with_context
from tokenpath.core.context import Context
from tokenpath.core.errors import OAuthError
from tokenpath.core.registration import create_user
from tokenpath.runtime import load_settings

__all__ = ["user"]


@click.group(cls=Group)
def user() -> None:
    """End users who sign in at the authorization server."""


@user.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def user_add(name: str, password_stdin: bool) -> None:
    """Create the user NAME (the password is prompted for twice unless --password-stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    settings = load_settings()

    async def add(ctx: Context) -> str:
        try:
            return (await create_user(ctx=ctx, username=name, password=password)).user_id
        except OAuthError as error:
            raise click.UsageError(error.description) from None

    user_id = run_with_context(settings, add)
    click.echo(f"created user {name} ({user_id})")
