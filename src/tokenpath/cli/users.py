"""``tokenpath user``: end users who sign in at the authorization server, and their claims.

A password never appears on the command line (where ``ps`` and shell history would keep it): it
is prompted for twice, or read from standard input with ``--password-stdin``.

A user's OpenID Connect standard claims (Core §5.1) are set with one option per common claim
(``--name``, ``--email``, ...) or any of them with ``--claims-json``; the core validates them
(``core/claims.py``). ``user update`` changes only what is given, and ``null`` in
``--claims-json`` removes a claim.

``list``, ``show``, ``passwd``, ``disable``, ``enable`` and ``delete`` follow the rules of
:mod:`tokenpath.core.lifecycle.users`, which the admin API applies too: a disabled user cannot
sign in and their sessions end, their grants stay until revoked (``tokenpath grants revoke``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from tokenpath.cli.base import Group, echo_json, json_option, run_with_context
from tokenpath.core import lifecycle
from tokenpath.core.claims import validate_claims
from tokenpath.core.context import Context
from tokenpath.core.errors import OAuthError
from tokenpath.core.lifecycle.views import user_view
from tokenpath.core.records import User
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
        raise click.UsageError(error.text) from None
    password = _read_password(password_stdin)
    settings = load_settings()

    async def add(ctx: Context) -> User:
        return await lifecycle.add_user(ctx, username, password, claims)

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
        return await lifecycle.change_user(ctx, username, changes)

    updated = run_with_context(settings, update)
    names = ", ".join(sorted(json.loads(updated.claims))) or "none"
    click.echo(f"updated user {username} ({updated.user_id}); claims: {names}")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    prompted: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return prompted


@user.command("list")
@json_option("Print a JSON array of users (never a password hash).")
def user_list(as_json: bool) -> None:
    """List users by name (at most 1000)."""

    async def fetch(ctx: Context) -> list[User]:
        return list(await lifecycle.list_users(ctx))

    users = run_with_context(load_settings(), fetch)
    if as_json:
        echo_json([user_view(u) for u in users])
        return
    if not users:
        click.echo("no users (add one with: tokenpath user add NAME)")
    for u in users:
        state = "  (disabled)" if u.disabled_at is not None else ""
        click.echo(f"{u.username}  {u.user_id}{state}")


@user.command("show")
@click.argument("username", metavar="NAME")
@json_option("Print the user as JSON (never the password hash).")
def user_show(username: str, as_json: bool) -> None:
    """Show the user NAME: id, claims, state."""

    async def show(ctx: Context) -> User:
        return await lifecycle.find_user(ctx, username)

    view = user_view(run_with_context(load_settings(), show))
    if as_json:
        echo_json(view)
        return
    for name, value in view.items():
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else value
        click.echo(f"{name + ':':<13}{'-' if value is None else shown}")


@user.command("passwd")
@click.argument("username", metavar="NAME")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
def user_passwd(username: str, password_stdin: bool) -> None:
    """Set a new password for NAME (prompted twice unless --password-stdin)."""
    password = _read_password(password_stdin)

    async def change(ctx: Context) -> User:
        return await lifecycle.set_password(ctx, username, password)

    run_with_context(load_settings(), change)
    click.echo(f"password of {username} changed")


def _switch(username: str, as_json: bool, *, enable: bool) -> None:
    async def change(ctx: Context) -> User:
        switch = lifecycle.enable_user if enable else lifecycle.disable_user
        return await switch(ctx, username)

    changed = run_with_context(load_settings(), change)
    if as_json:
        echo_json(user_view(changed))
    elif enable:
        click.echo(f"user {username} is enabled")
    else:
        click.echo(f"user {username} is disabled and signed out everywhere; their grants stay")
        click.echo(f"(end them with: tokenpath grants revoke --user {username})")


@user.command("disable")
@click.argument("username", metavar="NAME")
@json_option("Print the user as JSON.")
def user_disable(username: str, as_json: bool) -> None:
    """Stop NAME from signing in and end their sessions (grants stay until revoked)."""
    _switch(username, as_json, enable=False)


@user.command("enable")
@click.argument("username", metavar="NAME")
@json_option("Print the user as JSON.")
def user_enable(username: str, as_json: bool) -> None:
    """Let a disabled NAME sign in again."""
    _switch(username, as_json, enable=True)


@user.command("delete")
@click.argument("username", metavar="NAME")
def user_delete(username: str) -> None:
    """Delete NAME: sessions end, consents are forgotten, grants and their tokens revoked."""

    async def delete(ctx: Context) -> None:
        await lifecycle.delete_user(ctx, username)

    run_with_context(load_settings(), delete)
    click.echo(f"deleted user {username}; their grants are revoked")
