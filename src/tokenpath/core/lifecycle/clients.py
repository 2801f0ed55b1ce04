"""An operator's changes to a registered client: show, delete, disable, enable, rotate its secret.

Rules, each enforced here for the CLI and the admin API alike:

* Deleting a client removes its grants, codes, tokens and consents in one transaction (RFC 7592
  §2.3 asks the same of a client deleting itself); deleting it again is :class:`NotFound`.
* A disabled client cannot authenticate (``core/client_auth.py``), start an authorization
  (``core/authorization_request.py``) or refresh, and its tokens are inactive at introspection
  and ``/userinfo`` (``core/token_lookup.py``). Enabling it restores all of that: nothing was
  deleted. Both are idempotent.
* Rotating a secret prints the new one once and keeps only its hash. With an overlap the old
  secret is still accepted for that many seconds (at most :data:`MAX_OVERLAP`), so the client
  can be redeployed without a failed request; without one the old secret stops at once. Only a
  client that authenticates with a secret has one to rotate (:class:`Conflict` otherwise).
* Other server processes cache client records for ``TOKENPATH_CLIENT_CACHE_SECONDS``: a change
  reaches them within that time (``storage/cache.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tokenpath.core.client_auth import hash_client_secret, new_client_secret
from tokenpath.core.context import Context
from tokenpath.core.errors import OAuthError
from tokenpath.core.lifecycle.errors import Conflict, Invalid, NotFound
from tokenpath.core.records import Client
from tokenpath.core.registration import admin_change, register_client, update_client
from tokenpath.core.revocation_feed import revoke_client_grants

__all__ = [
    "MAX_OVERLAP",
    "add_client",
    "change_client",
    "delete_client",
    "disable_client",
    "enable_client",
    "find_client",
    "list_clients",
    "rotate_client_secret",
]

MAX_OVERLAP = 30 * 24 * 3600
"""The longest a replaced secret may stay valid: a month is enough to redeploy anything."""
SECRET_METHODS = ("client_secret_basic", "client_secret_post")


async def find_client(ctx: Context, client_id: str) -> Client:
    client = await ctx.stores.clients.get(client_id)
    if client is None:
        raise NotFound(f"no client {client_id!r}")
    return client


async def list_clients(ctx: Context) -> Sequence[Client]:
    return await ctx.stores.clients.list()


async def add_client(ctx: Context, **metadata: Any) -> tuple[Client, str | None]:
    """Register a client (``core/registration.py`` rules); its secret, if any, shown once."""
    try:
        return await register_client(ctx=ctx, **metadata)
    except OAuthError as error:
        raise Invalid(error.text) from None


async def change_client(ctx: Context, client_id: str, **changes: Any) -> Client:
    """Change a client's metadata (what is None stays), with the registration rules."""
    await find_client(ctx, client_id)
    try:
        return await update_client(ctx=ctx, client_id=client_id, **changes)
    except OAuthError as error:
        raise Invalid(error.text) from None


async def delete_client(ctx: Context, client_id: str) -> None:
    """Delete the client with everything it was given; its users' grants are revoked first, on
    the revocation feed too, so JWT-validating APIs refuse their tokens as well."""
    await find_client(ctx, client_id)
    await revoke_client_grants(ctx, client_id)
    if not await ctx.stores.clients.delete(client_id):
        raise NotFound(f"no client {client_id!r}")
    admin_change(ctx, "client.delete", client_id=client_id)


async def disable_client(ctx: Context, client_id: str) -> Client:
    if not await ctx.stores.clients.set_disabled(client_id, ctx.clock.now()):
        raise NotFound(f"no client {client_id!r}")
    admin_change(ctx, "client.disable", client_id=client_id)
    return await find_client(ctx, client_id)


async def enable_client(ctx: Context, client_id: str) -> Client:
    if not await ctx.stores.clients.set_disabled(client_id, None):
        raise NotFound(f"no client {client_id!r}")
    admin_change(ctx, "client.enable", client_id=client_id)
    return await find_client(ctx, client_id)


async def rotate_client_secret(
    ctx: Context, client_id: str, overlap: int = 0
) -> tuple[Client, str]:
    """A new secret for the client (returned once); the old one valid ``overlap`` more seconds."""
    if not 0 <= overlap <= MAX_OVERLAP:
        raise Invalid(f"overlap must be between 0 and {MAX_OVERLAP} seconds")
    client = await find_client(ctx, client_id)
    if client.token_endpoint_auth_method not in SECRET_METHODS:
        raise Conflict(
            f"client {client_id!r} authenticates with {client.token_endpoint_auth_method}: "
            "it has no secret to rotate"
        )
    secret = new_client_secret(ctx.random)
    secret_hash = hash_client_secret(secret, salt=ctx.random.token(12))
    until = ctx.clock.now() + overlap if overlap else None
    if not await ctx.stores.clients.rotate_secret(client_id, secret_hash, until):
        raise NotFound(f"no client {client_id!r}")
    admin_change(ctx, "client.rotate_secret", client_id=client_id)
    return await find_client(ctx, client_id), secret
