"""``tokenpath registration``: initial access tokens for dynamic client registration.

RFC 7591 §3 lets the server require an initial access token at ``/register``; this is how an
operator issues one. The token is printed once: the database keeps only its SHA-256. By default
it admits one registration and expires in a day, so a token that leaks (a CI log, a chat
message) is worth little.
"""

from __future__ import annotations

import json

import click

from tokenpath.cli.base import Group, run_with_context
from tokenpath.core.context import Context
from tokenpath.core.dynamic_registration import create_initial_access_token
from tokenpath.runtime import load_settings

__all__ = ["registration"]


@click.group(cls=Group)
def registration() -> None:
    """Dynamic client registration (RFC 7591)."""


@registration.group(cls=Group)
def token() -> None:
    """Initial access tokens that let a client register itself at /register."""


@token.command("create")
@click.option(
    "--uses",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Registrations the token admits; 0 = any number.",
)
@click.option(
    "--expires-in",
    type=click.IntRange(min=0),
    default=86400,
    show_default=True,
    help="Seconds the token lives; 0 = it never expires.",
)
@click.option("--json", "as_json", is_flag=True, help='Print {"token": ...} as JSON.')
def token_create(uses: int, expires_in: int, as_json: bool) -> None:
    """Issue an initial access token; it is printed once, never again."""
    settings = load_settings()

    async def create(ctx: Context) -> str:
        return await create_initial_access_token(
            ctx, uses=uses or None, expires_in=expires_in or None
        )

    value = run_with_context(settings, create)
    if as_json:
        click.echo(json.dumps({"token": value}))
        return
    click.echo(f"initial access token: {value}")
    click.echo(f"Send it as 'Authorization: Bearer …' to {settings.issuer}/register.")
    click.echo("Store it now: it is shown only once and kept only as a hash.")
