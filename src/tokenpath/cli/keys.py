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

from tokenpath.cli.base import Group, echo_json, json_option, require_schema, run_with_context
from tokenpath.core import lifecycle
from tokenpath.core.context import Context
from tokenpath.core.lifecycle.views import key_view
from tokenpath.core.records import SigningKey
from tokenpath.runtime import ConfigError, key_encryption_keys, load_settings

__all__ = ["keys"]


@click.group(cls=Group)
def keys() -> None:
    """Signing keys (ES256) for access tokens."""


@keys.command("list")
@json_option("Print a JSON array of {kid, alg, created_at, signing} (never a private key).")
def keys_list(as_json: bool) -> None:
    """Active keys, newest (the one that signs) first."""
    settings = load_settings()

    async def fetch(ctx: Context) -> list[SigningKey]:
        return list(await lifecycle.list_keys(ctx))  # creates the first key if there is none

    active = run_with_context(settings, fetch)
    if as_json:
        echo_json([key_view(k, signing=i == 0) for i, k in enumerate(active)])
        return
    for i, key in enumerate(active):
        role = "signing" if i == 0 else "published, retiring"
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(key.created_at))
        click.echo(f"{key.kid}  {key.alg}  created {created}  {role}")


@keys.command("rotate")
@json_option("Print the new key as {kid, alg, created_at, signing}.")
def keys_rotate(as_json: bool) -> None:
    """Add a new signing key; the old one keeps validating until its tokens have expired."""
    settings = load_settings()

    async def rotate(ctx: Context) -> SigningKey:
        return await lifecycle.rotate_keys(ctx)

    key = run_with_context(settings, rotate)
    if as_json:
        echo_json(key_view(key, signing=False))
        return
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
