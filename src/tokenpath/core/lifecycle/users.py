"""An operator's changes to end users: list, show, add, change claims or password, disable,
enable, delete.

Rules, each enforced here for the CLI and the admin API alike:

* A disabled user cannot sign in (``core/login.py`` refuses them like a wrong password) and
  every session they have ends in the same transaction, so no browser stays signed in. Their
  grants stay: refresh tokens keep working until revoked (``grants revoke --user``), because
  disabling is for "stop new sign-ins now", revoking for "end what was given".
* Deleting a user ends their sessions, forgets their consents, and revokes their grants (so every
  code, access and refresh token from them is inactive), in one transaction.
* A new password follows the sign-up rules (8 to :data:`~tokenpath.core.login.MAX_PASSWORD`
  characters) and is hashed with the current argon2 parameters; sessions are left as they are
  (revoke the user's grants to end them too).
* Every change is an ``admin.change`` security event naming the user id only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tokenpath.core.context import Context
from tokenpath.core.errors import OAuthError
from tokenpath.core.lifecycle.errors import Conflict, Invalid, NotFound
from tokenpath.core.login import MAX_PASSWORD
from tokenpath.core.records import User
from tokenpath.core.registration import admin_change, create_user
from tokenpath.core.revocation_feed import record_grant_revocation
from tokenpath.core.users import update_user_claims

__all__ = [
    "MAX_LISTED",
    "add_user",
    "change_user",
    "delete_user",
    "disable_user",
    "enable_user",
    "find_user",
    "list_users",
    "set_password",
]

MAX_LISTED = 1000
"""The most users one listing returns."""
_FEED_SCAN = 100_000
"""The most live grants of a deleted user announced to the revocation feed."""
MIN_PASSWORD = 8


async def find_user(ctx: Context, username: str) -> User:
    user = await ctx.stores.users.get_by_username(username)
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


async def list_users(ctx: Context, limit: int = MAX_LISTED) -> Sequence[User]:
    return await ctx.stores.users.list(max(1, min(limit, MAX_LISTED)))


def _check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise Invalid(f"password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters")


async def add_user(
    ctx: Context, username: str, password: str, claims: Mapping[str, object] | None = None
) -> User:
    """Create a user; a name already taken is :class:`Conflict`, even when two race."""
    _check_password(password)
    if await ctx.stores.users.get_by_username(username.strip()) is not None:
        raise Conflict(f"user {username.strip()!r} already exists")
    try:
        return await create_user(ctx=ctx, username=username, password=password, claims=claims)
    except OAuthError as error:
        raise Invalid(error.text) from None
    except KeyError:  # the store's unique name: another request created it meanwhile
        raise Conflict(f"user {username.strip()!r} already exists") from None


async def change_user(ctx: Context, username: str, claims: Mapping[str, object | None]) -> User:
    """Merge ``claims`` into the user's (None removes one), validated as a whole."""
    await find_user(ctx, username)
    try:
        return await update_user_claims(ctx, username, claims)
    except OAuthError as error:
        raise Invalid(error.text) from None


async def set_password(ctx: Context, username: str, password: str) -> User:
    _check_password(password)
    user = await find_user(ctx, username)
    await ctx.stores.users.set_password_hash(user.user_id, await ctx.passwords.hash(password))
    admin_change(ctx, "user.password", user_id=user.user_id)
    return user


async def disable_user(ctx: Context, username: str) -> User:
    user = await find_user(ctx, username)
    if not await ctx.stores.users.set_disabled(user.user_id, ctx.clock.now()):
        raise NotFound(f"no user {username!r}")
    admin_change(ctx, "user.disable", user_id=user.user_id)
    return await find_user(ctx, username)


async def enable_user(ctx: Context, username: str) -> User:
    user = await find_user(ctx, username)
    if not await ctx.stores.users.set_disabled(user.user_id, None):
        raise NotFound(f"no user {username!r}")
    admin_change(ctx, "user.enable", user_id=user.user_id)
    return await find_user(ctx, username)


async def delete_user(ctx: Context, username: str) -> None:
    """Delete the user; their live grants are announced on the revocation feed as well."""
    user = await find_user(ctx, username)
    grants = await ctx.stores.grants.list_for(user_id=user.user_id, limit=_FEED_SCAN)
    live = [g.grant_id for g in grants if g.revoked_at is None]
    now = ctx.clock.now()
    if not await ctx.stores.users.delete(user.user_id, now):
        raise NotFound(f"no user {username!r}")
    for grant_id in live:
        await record_grant_revocation(ctx, grant_id, now)
    admin_change(ctx, "user.delete", user_id=user.user_id)
