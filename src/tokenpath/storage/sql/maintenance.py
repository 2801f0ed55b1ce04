"""Keeping tables bounded: delete rows that can no longer matter.

Each table that grows with traffic has an indexed expiry column, so every statement here is a
range delete on an index, safe to run while the server serves (``tokenpath db cleanup``, from
cron or a timer, on any one machine of a fleet). ``grace`` keeps recently expired rows a while
longer, so a replayed code or refresh token is still *recognised* as a replay (and revokes its
grant) rather than answered as unknown.
"""

from __future__ import annotations

from sqlalchemy import and_, delete, or_
from sqlalchemy.ext.asyncio import AsyncEngine

from tokenpath.storage.sql import models as m

__all__ = ["purge_expired"]


async def purge_expired(engine: AsyncEngine, now: int, *, grace: int = 24 * 3600) -> dict[str, int]:
    """Delete expired rows; the number deleted per table."""
    cutoff = now - grace
    statements = {
        "codes": delete(m.codes).where(m.codes.c.expires_at < cutoff),
        "access_tokens": delete(m.access_tokens).where(m.access_tokens.c.expires_at < cutoff),
        "refresh_tokens": delete(m.refresh_tokens).where(
            or_(
                m.refresh_tokens.c.expires_at < cutoff,
                and_(m.refresh_tokens.c.used_at.is_not(None), m.refresh_tokens.c.used_at < cutoff),
            )
        ),
        "sessions": delete(m.sessions).where(m.sessions.c.expires_at < now),
        "replay_cache": delete(m.replay_cache).where(m.replay_cache.c.expires_at < now),
        "rate_limits": delete(m.rate_limits).where(m.rate_limits.c.expires_at < now),
    }
    counts: dict[str, int] = {}
    async with engine.begin() as conn:
        for table, statement in statements.items():
            result = await conn.execute(statement)
            counts[table] = result.rowcount or 0
    return counts
