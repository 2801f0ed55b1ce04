"""Listing and revoking what users gave clients.

Revoking a grant ends everything that descends from it (``core/records.py`` ``Grant``): its
access tokens are inactive at introspection and ``/userinfo``, its refresh tokens are refused
and revoked, its unredeemed codes are deleted; revoking a user's grants also ends the user's
sessions. One transaction does all of it (``GrantStore.revoke_for``). Revoking again is not an
error: the answer says nothing was live. Every grant that was live also goes into the
revocation feed (``core/revocation_feed.py``), so resource servers that validate JWT access
tokens locally refuse them within their poll interval, without a call per request.
"""

from __future__ import annotations

from collections.abc import Sequence

from tokenpath.core.context import Context
from tokenpath.core.lifecycle.clients import find_client
from tokenpath.core.lifecycle.errors import Invalid, NotFound
from tokenpath.core.lifecycle.users import find_user
from tokenpath.core.ports import GrantSelector, RevokedCount
from tokenpath.core.records import Grant
from tokenpath.core.registration import admin_change
from tokenpath.core.revocation_feed import record_grant_revocation

__all__ = ["MAX_LISTED", "list_grants", "revoke_grants"]

MAX_LISTED = 1000
"""The most grants one listing returns, newest first."""
_FEED_SCAN = 100_000
"""The most live grants of one user or client announced to the revocation feed at once."""


def _one_of(username: str | None, client_id: str | None, grant_id: str | None = None) -> None:
    if sum(v is not None for v in (username, client_id, grant_id)) != 1:
        names = "user, client or grant" if grant_id is not None else "user or client"
        raise Invalid(f"name exactly one {names}")


async def list_grants(
    ctx: Context,
    *,
    username: str | None = None,
    client_id: str | None = None,
    limit: int = MAX_LISTED,
) -> Sequence[Grant]:
    """The grants of one user or one client (revoked ones included), newest first."""
    _one_of(username, client_id)
    limit = max(1, min(limit, MAX_LISTED))
    if username is not None:
        user = await find_user(ctx, username)
        return await ctx.stores.grants.list_for(user_id=user.user_id, limit=limit)
    client = await find_client(ctx, client_id or "")
    return await ctx.stores.grants.list_for(client_id=client.client_id, limit=limit)


async def revoke_grants(
    ctx: Context,
    *,
    username: str | None = None,
    client_id: str | None = None,
    grant_id: str | None = None,
) -> RevokedCount:
    """Revoke a user's, a client's or one grant; the counts of what was still live."""
    _one_of(username, client_id, grant_id)
    if username is not None:
        user = await find_user(ctx, username)
        selector = GrantSelector(user_id=user.user_id)
    elif client_id is not None:
        selector = GrantSelector(client_id=(await find_client(ctx, client_id)).client_id)
    else:
        if await ctx.stores.grants.get(grant_id or "") is None:
            raise NotFound(f"no grant {grant_id!r}")
        selector = GrantSelector(grant_id=grant_id)
    live = await live_grant_ids(ctx, selector)
    now = ctx.clock.now()
    count = await ctx.stores.grants.revoke_for(selector, now)
    for live_id in live:
        await record_grant_revocation(ctx, live_id, now)
    admin_change(
        ctx,
        "grants.revoke",
        client_id=selector.client_id or "",
        user_id=selector.user_id or "",
    )
    return count


async def live_grant_ids(ctx: Context, selector: GrantSelector) -> list[str]:
    """The unrevoked grants ``selector`` names, read before revoking them, so that each can be
    announced on the revocation feed afterwards."""
    if selector.grant_id is not None:
        grant = await ctx.stores.grants.get(selector.grant_id)
        return [grant.grant_id] if grant is not None and grant.revoked_at is None else []
    grants = await ctx.stores.grants.list_for(
        user_id=selector.user_id, client_id=selector.client_id, limit=_FEED_SCAN
    )
    return [g.grant_id for g in grants if g.revoked_at is None]
