"""What a replay costs (RFC 9700 §4.2.4 for codes, §4.14.2 for refresh tokens): the grant is
revoked, and with it every token of its family (docs/decisions/0002), the revocation is a
security event (docs/decisions/0011) and a revocation-feed entry for the grant's APIs. One
function, so both grants answer a replay alike.
"""

from __future__ import annotations

from tokenpath.core.context import Context
from tokenpath.core.events import Event, EventName
from tokenpath.core.revocation_feed import record_grant_revocation

__all__ = ["revoke_replayed"]


async def revoke_replayed(
    ctx: Context, event: EventName, *, grant_id: str, client_id: str, user_id: str
) -> None:
    now = ctx.clock.now()
    await ctx.stores.grants.revoke(grant_id, now)
    await record_grant_revocation(ctx, grant_id, now)  # JWT-validating APIs learn of it
    ctx.events.emit(
        Event(
            name=event, outcome="revoked", client_id=client_id, user_id=user_id, grant_id=grant_id
        )
    )
