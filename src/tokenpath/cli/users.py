"""``tokenpath user``: end users who sign in at the authorization server, and their claims.

A password never appears on the command line (where ``ps`` and shell history would keep it): it
is prompted for twice, or read from standard input with ``--password-stdin``.

A user's OpenID Connect standard claims (Core §5.1) are set with one option per common claim
(``--name``, ``--email``, ...) or any of them with ``--claims-json``; the core validates them
(``core/claims.py``). ``user update`` changes only what is given, and ``null`` in
``--claims-json`` removes a claim.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from tokenpath.cli.base import Group, run_with_context
from tokenpath.core.claims import validate_claims
from tokenpath.core.context import Context
from tokenpath.core.errors import OAuthError
from tokenpath.core.records import User
from tokenpath.core.registration import create_user, update_user_claims
from tokenpath.runtime import load_settings

__all__ = ["user"]

F = TypeVar("F", bound=Callable[..., Any])

_CLAIM_OPTIONS = (
    click.option("--name", "name", metavar="TEXT", help="Full name (claim name)."),
    click.option("--given-name", "given_name", metavar="TEXT", help="Given name."),
    click.option("--family-name", "family_name", metavar="TEXT", help="Family name."),
    click.option("--email", "email", metavar="TEXT", help="Email address (claim email)."),
    click.option(
        "--email-verified/--no-email-verified",
        default=None,
        help="Whether the email address is verified (claim email_verified).",
    ),
    click.option("--phone-number", metavar="TEXT", help="Phone number, E.164 preferred."),
    click.option(
        "--claims-json",
        metavar="JSON",
        help='A JSON object of standard claims, e.g. \'{"locale": "en-GB"}\'; null removes one.',
    ),
)


def claim_options(command: F) -> F:
    """The claim options ``user add`` and ``user update`` share, in this order."""
    for option in reversed(_CLAIM_OPTIONS):
        command = option(command)
    return command


def claim_changes(options: dict[str, Any]) -> dict[str, object | None]:
    """The claims the options set: ``--claims-json`` first, the single options over it."""
    changes: dict[str, object | None] = {}
    raw = options.pop("claims_json", None)
    if raw is not None:
        try:
            parsed = json.loads(raw)
        except ValueError:
            raise click.UsageError("--claims-json is not valid JSON") from None
        if not isinstance(parsed, dict):
            raise click.UsageError("--claims-json must be a JSON object")
        changes.update(parsed)
    changes.update({name: value for name, value in options.items() if value is not None})
    return changes


@click.group(cls=Group)
def user() -> None:
    """End users who sign in at the authorization server."""


@user.command("add")
@click.argument("username", metavar="NAME")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@claim_options
def user_add(username: str, password_stdin: bool, **options: Any) -> None:
    """Create the user NAME (the password is prompted for twice unless --password-stdin)."""
    claims = {k: v for k, v in claim_changes(options).items() if v is not None}
    try:
        validate_claims(claims)  # before the password prompt: bad input costs no typing
    except OAuthError as error:
        raise click.UsageError(error.description) from None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    settings = load_settings()

    async def add(ctx: Context) -> User:
        try:
            return await create_user(ctx=ctx, username=username, password=password, claims=claims)
        except OAuthError as error:
            raise click.UsageError(error.description) from None

    created = run_with_context(settings, add)
    click.echo(f"created user {username} ({created.user_id})")


@user.command("update")
@click.argument("username", metavar="NAME")
@claim_options
def user_update(username: str, **options: Any) -> None:
    """Change the claims of the user NAME; claims not given stay as they are."""
    changes = claim_changes(options)
    if not changes:
        raise click.UsageError("nothing to change: give a claim option or --claims-json")
    settings = load_settings()

    async def update(ctx: Context) -> User:
        try:
            return await update_user_claims(ctx, username, changes)
        except OAuthError as error:
            raise click.UsageError(error.description) from None

    updated = run_with_context(settings, update)
    names = ", ".join(sorted(json.loads(updated.claims))) or "none"
    click.echo(f"updated user {username} ({updated.user_id}); claims: {names}")
