"""Admin API tokens: the operator's credential for ``/admin`` (``web/admin_api.py``).

A token is 256 random bits with a recognisable prefix (so secret scanners and people can tell
what leaked), shown once when created; only its SHA-256 is stored, so a copy of the database
authenticates nobody. A token may expire and can be revoked; either ends it for good.
"""

from __future__ import annotations

from collections.abc import Sequence

from tokenpath.core.clock import hash_token
from tokenpath.core.context import Context
from tokenpath.core.lifecycle.errors import Invalid, NotFound
from tokenpath.core.records import AdminToken
from tokenpath.core.registration import admin_change

__all__ = [
    "PREFIX",
    "authenticate_admin",
    "create_admin_token",
    "list_admin_tokens",
    "revoke_admin_token",
]

PREFIX = "tpadm_"
MAX_NAME = 100
MAX_TOKEN = 200
"""A presented token longer than this is refused without hashing or a lookup."""


async def create_admin_token(
    ctx: Context, *, name: str = "admin", expires_in: int | None = None
) -> tuple[AdminToken, str]:
    """A new token (the plain value returned once); ``expires_in`` None or 0: no expiry."""
    name = name.strip()
    if not 0 < len(name) <= MAX_NAME:
        raise Invalid(f"name must be 1 to {MAX_NAME} characters")
    if expires_in is not None and expires_in < 0:
        raise Invalid("expires_in must be a number of seconds, 0 for no expiry")
    now = ctx.clock.now()
    token = PREFIX + ctx.random.token(32)
    record = AdminToken(
        token_id=ctx.random.token(8),
        token_hash=hash_token(token),
        name=name,
        created_at=now,
        expires_at=now + expires_in if expires_in else None,
    )
    await ctx.stores.admin_tokens.add(record)
    admin_change(ctx, "admin_token.create")
    return record, token


async def list_admin_tokens(ctx: Context) -> Sequence[AdminToken]:
    return await ctx.stores.admin_tokens.list()


async def revoke_admin_token(ctx: Context, token_id: str) -> None:
    if not await ctx.stores.admin_tokens.revoke(token_id, ctx.clock.now()):
        raise NotFound(f"no admin token {token_id!r}")
    admin_change(ctx, "admin_token.revoke")


async def authenticate_admin(ctx: Context, presented: str) -> AdminToken | None:
    """The live token ``presented`` is, or None (unknown, expired, revoked, malformed)."""
    if not presented.startswith(PREFIX) or len(presented) > MAX_TOKEN:
        return None
    return await ctx.stores.admin_tokens.get(hash_token(presented), ctx.clock.now())
