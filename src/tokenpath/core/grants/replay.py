"""What a replay costs (RFC 9700 §4.2.4 for codes, §4.14.2 for refresh tokens): the grant is
revoked, and with it every token of its family (docs/decisions/0002), and the revocation is a
security event (docs/decisions/0011). One function, so both grants answer a replay alike.
"""

from __future__ import annotations

from tokenpath.core.context import Context
from tokenpath.core.events import Event, EventName

__all__ = ["revoke_replayed"]


async def revoke_replayed(
    ctx: Context, event: EventName, *, grant_id: str, client_id: str, user_id: str
) -> None:
    await ctx.stores.grants.revoke(grant_id, ctx.clock.now())
    ctx.events.emit(
        Event(
            name=event, outcome="revoked", client_id=client_id, user_id=user_id, grant_id=grant_id
        )
    )
