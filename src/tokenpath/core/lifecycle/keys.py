"""Listing and rotating the signing keys, for the CLI's ``keys`` and the admin API's ``/keys``.

Rotation only adds a key: servers publish it at once, sign with it once it has been published
long enough, and retire the old one after its tokens expire (``core/signing.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

from tokenpath.core.context import Context
from tokenpath.core.events import Event, EventName
from tokenpath.core.records import SigningKey
from tokenpath.core.signing import rotate_signing_key

__all__ = ["list_keys", "rotate_keys"]


async def list_keys(ctx: Context) -> Sequence[SigningKey]:
    """Active keys, the one that signs first (the first key is created if there is none)."""
    await ctx.signer.reload()
    return await ctx.stores.keys.list_active()


async def rotate_keys(ctx: Context) -> SigningKey:
    key = await rotate_signing_key(ctx.stores.keys, ctx.clock.now())
    ctx.events.emit(Event(name=EventName.KEY_ROTATED, outcome="changed", extra=(("kid", key.kid),)))
    await ctx.signer.reload()  # retires keys superseded long enough ago
    return key
