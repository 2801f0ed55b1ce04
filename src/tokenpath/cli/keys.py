"""``tokenpath keys``: list and rotate the ES256 keys that sign access tokens (RFC 9068).

Rotation only adds a key; the running servers publish it, start signing with it once it has been
published long enough, and retire the old one after its tokens expire (see
:mod:`tokenpath.core.signing`).
"""

from __future__ import annotations

import time

import click

from tokenpath.cli.base import Group, run_with_context
from tokenpath.core.context import Context
from tokenpath.core.records import SigningKey
from tokenpath.core.signing import rotate_signing_key
from tokenpath.runtime import load_settings

__all__ = ["keys"]


@click.group(cls=Group)
def keys() -> None:
    """Signing keys (ES256) for access tokens."""


@keys.command("list")
def keys_list() -> None:
    """Active keys, newest (the one that signs) first."""
    settings = load_settings()

    async def fetch(ctx: Context) -> list[SigningKey]:
        await ctx.signer.reload()  # creates the first key if there is none
        return list(await ctx.stores.keys.list_active())

    for i, key in enumerate(run_with_context(settings, fetch)):
        role = "signing" if i == 0 else "published, retiring"
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(key.created_at))
        click.echo(f"{key.kid}  {key.alg}  created {created}  {role}")


@keys.command("rotate")
def keys_rotate() -> None:
    """Add a new signing key; the old one keeps validating until its tokens have expired."""
    settings = load_settings()

    async def rotate(ctx: Context) -> SigningKey:
        key = await rotate_signing_key(ctx.stores.keys, ctx.clock.now())
        await ctx.signer.reload()  # retires keys superseded long enough ago
        return key

    key = run_with_context(settings, rotate)
    click.echo(f"new signing key {key.kid}; servers pick it up within a minute")
