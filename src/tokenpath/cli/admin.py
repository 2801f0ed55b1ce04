"""``tokenpath admin token create|list|revoke``: credentials for the admin HTTP API.

A token is printed once, when created, and stored as its SHA-256 only
(:mod:`tokenpath.core.lifecycle.admin_tokens`); the admin API (``docs/reference/admin-api.md``)
takes it as ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import click

from tokenpath.cli.base import Group, echo_json, json_option, run_with_context
from tokenpath.core import lifecycle
from tokenpath.core.context import Context
from tokenpath.core.lifecycle.views import admin_token_view
from tokenpath.core.records import AdminToken
from tokenpath.runtime import load_settings

__all__ = ["admin"]


@click.group(cls=Group)
def admin() -> None:
    """The admin HTTP API's credentials."""


@admin.group("token", cls=Group)
def token() -> None:
    """Admin API tokens (Bearer)."""


@token.command("create")
@click.option("--name", default="admin", show_default=True, help="Who or what it is for.")
@click.option(
    "--expires-in",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Seconds it lives (0: until revoked).",
)
@json_option("Print {token, token_id, name, expires_at}.")
def token_create(name: str, expires_in: int, as_json: bool) -> None:
    """Create an admin API token; it is printed once and stored only as a hash."""

    async def create(ctx: Context) -> tuple[AdminToken, str]:
        return await lifecycle.create_admin_token(ctx, name=name, expires_in=expires_in)

    record, value = run_with_context(load_settings(), create)
    if as_json:
        echo_json({"token": value, "token_id": record.token_id, "name": record.name,
                   "expires_at": record.expires_at})  # fmt: skip
        return
    click.echo(f"token:    {value}")
    click.echo(f"token_id: {record.token_id}  (for: tokenpath admin token revoke ID)")
    click.echo("Store the token now: it is shown only once and kept only as a hash.")


@token.command("list")
@json_option("Print a JSON array (never a token).")
def token_list(as_json: bool) -> None:
    """List admin tokens: id, name, expiry, whether still active."""

    async def fetch(ctx: Context) -> list[dict[str, object]]:
        now = ctx.clock.now()
        return [admin_token_view(t, now) for t in await lifecycle.list_admin_tokens(ctx)]

    views = run_with_context(load_settings(), fetch)
    if as_json:
        echo_json(views)
        return
    if not views:
        click.echo("no admin tokens (create one with: tokenpath admin token create)")
    for view in views:
        state = "active" if view["active"] else "inactive"
        click.echo(f"{view['token_id']}  {state:<8}  {view['name']}")


@token.command("revoke")
@click.argument("token_id")
def token_revoke(token_id: str) -> None:
    """Revoke the admin token TOKEN_ID at once (revoking again is harmless)."""

    async def revoke(ctx: Context) -> None:
        await lifecycle.revoke_admin_token(ctx, token_id)

    run_with_context(load_settings(), revoke)
    click.echo(f"admin token {token_id} revoked")
