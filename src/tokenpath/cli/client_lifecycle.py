"""``tokenpath client show|delete|disable|enable|rotate-secret``: a registered client's lifecycle.

The rules are :mod:`tokenpath.core.lifecycle.clients` (the admin API applies the same ones);
this module only parses options and prints. A new secret is printed once, never again.
"""

from __future__ import annotations

import click

from tokenpath.cli.base import echo_json, json_option, run_with_context
from tokenpath.cli.clients import client
from tokenpath.core import lifecycle
from tokenpath.core.context import Context
from tokenpath.core.lifecycle.views import client_view
from tokenpath.runtime import load_settings

__all__ = [
    "client_delete",
    "client_disable",
    "client_enable",
    "client_rotate_secret",
    "client_show",
]


def _print(view: dict[str, object]) -> None:
    for name, value in view.items():
        if isinstance(value, list):
            value = " ".join(str(v) for v in value) or "-"
        click.echo(f"{name + ':':<30}{'-' if value is None else value}")


@client.command("show")
@click.argument("client_id")
@json_option("Print the client as JSON (never a secret).")
def client_show(client_id: str, as_json: bool) -> None:
    """Show CLIENT_ID's registration and state."""

    async def show(ctx: Context) -> dict[str, object]:
        return client_view(await lifecycle.find_client(ctx, client_id), ctx.clock.now())

    view = run_with_context(load_settings(), show)
    echo_json(view) if as_json else _print(view)


@client.command("delete")
@click.argument("client_id")
def client_delete(client_id: str) -> None:
    """Delete CLIENT_ID with its grants, codes, tokens and consents."""

    async def delete(ctx: Context) -> None:
        await lifecycle.delete_client(ctx, client_id)

    run_with_context(load_settings(), delete)
    click.echo(f"deleted client {client_id} with its grants and tokens")


def _switch(client_id: str, as_json: bool, *, enable: bool) -> None:
    async def change(ctx: Context) -> dict[str, object]:
        switch = lifecycle.enable_client if enable else lifecycle.disable_client
        return client_view(await switch(ctx, client_id), ctx.clock.now())

    view = run_with_context(load_settings(), change)
    if as_json:
        echo_json(view)
    elif enable:
        click.echo(f"client {client_id} is enabled")
    else:
        click.echo(f"client {client_id} is disabled: it cannot authenticate or authorize, "
                   "and its tokens are inactive")  # fmt: skip


@client.command("disable")
@click.argument("client_id")
@json_option("Print the client as JSON.")
def client_disable(client_id: str, as_json: bool) -> None:
    """Stop CLIENT_ID: no authentication, authorization or refresh; its tokens turn inactive."""
    _switch(client_id, as_json, enable=False)


@client.command("enable")
@click.argument("client_id")
@json_option("Print the client as JSON.")
def client_enable(client_id: str, as_json: bool) -> None:
    """Let a disabled CLIENT_ID work again (nothing was deleted)."""
    _switch(client_id, as_json, enable=True)


@client.command("rotate-secret")
@click.argument("client_id")
@click.option(
    "--overlap",
    type=click.IntRange(min=0, max=lifecycle.MAX_OVERLAP),
    default=0,
    show_default=True,
    help="Seconds the old secret keeps working (0: it stops now).",
)
@json_option("Print {client_id, client_secret, previous_secret_valid_until}.")
def client_rotate_secret(client_id: str, overlap: int, as_json: bool) -> None:
    """Give CLIENT_ID a new secret, printed once; the old one works --overlap more seconds."""

    async def rotate(ctx: Context) -> tuple[dict[str, object], str]:
        rotated, secret = await lifecycle.rotate_client_secret(ctx, client_id, overlap)
        return client_view(rotated, ctx.clock.now()), secret

    view, secret = run_with_context(load_settings(), rotate)
    until = view["previous_secret_valid_until"]
    if as_json:
        echo_json({"client_id": client_id, "client_secret": secret,
                   "previous_secret_valid_until": until})  # fmt: skip
        return
    click.echo(f"client_secret: {secret}")
    click.echo("Store the secret now: it is shown only once and kept only as a hash.")
    if until is None:
        click.echo("The old secret no longer works.")
    else:
        click.echo(f"The old secret works until {until} (Unix time), then stops.")
