"""``tokenpath keys``: the ES256 keys that sign access tokens (RFC 9068), and the key-encryption
key that protects them at rest.

Rotation only adds a key; the running servers publish it, start signing with it once it has been
published long enough, and retire the old one after its tokens expire (see
:mod:`tokenpath.core.signing`).

The private keys are stored wrapped with ``TOKENPATH_KEY_ENCRYPTION_KEY`` (AES-256-GCM, see
:mod:`tokenpath.storage.key_encryption`). Rotating that key without downtime: set
``TOKENPATH_KEY_ENCRYPTION_KEY=NEW,OLD`` on every server (the first wraps, all unwrap), run
``tokenpath keys rewrap``, then set ``NEW`` alone.
"""

from __future__ import annotations

import asyncio
import time

import click

from tokenpath.cli.base import Group, require_schema, run_with_context
from tokenpath.core.context import Context
from tokenpath.core.events import Event, EventName
from tokenpath.core.records import SigningKey
from tokenpath.core.signing import rotate_signing_key
from tokenpath.runtime import ConfigError, key_encryption_keys, load_settings

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
        ctx.events.emit(
            Event(name=EventName.KEY_ROTATED, outcome="changed", extra=(("kid", key.kid),))
        )
        await ctx.signer.reload()  # retires keys superseded long enough ago
        return key

    key = run_with_context(settings, rotate)
    click.echo(f"new signing key {key.kid}; servers pick it up within a minute")


@keys.command("generate-kek")
def keys_generate_kek() -> None:
    """Print a new random key-encryption key (for TOKENPATH_KEY_ENCRYPTION_KEY)."""
    from tokenpath.storage.key_encryption import generate_kek

    click.echo(generate_kek())


@keys.command("rewrap")
def keys_rewrap() -> None:
    """Wrap every signing key with the first TOKENPATH_KEY_ENCRYPTION_KEY (any listed unwraps)."""
    from tokenpath.storage.key_encryption import KeyEncryptionError
    from tokenpath.storage.sql import open_database, rewrap_keys

    settings = load_settings()
    keks = key_encryption_keys(settings)
    if not keks:
        raise ConfigError("set TOKENPATH_KEY_ENCRYPTION_KEY (NEW,OLD while rotating) first")

    async def rewrap() -> int:
        await require_schema(settings)
        database = await open_database(settings.database_url)
        try:
            return await rewrap_keys(database.executor, keks[1:], keks[0])
        finally:
            await database.close()

    try:
        changed = asyncio.run(rewrap())
    except KeyEncryptionError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{changed} signing key(s) rewrapped with key-encryption key {keks[0].id}")
