"""Keeping tables bounded: delete rows that can no longer matter.

Each table that grows with traffic has an indexed expiry column, so every statement here is a
range delete on an index, safe to run while the server serves (``tokenpath db cleanup`` from cron
or a timer, or the server's own periodic clean-up; several machines of a fleet may run it at
once). Deletes go in batches of ``batch`` rows, each its own short transaction, so a large
backlog never holds a long write lock. ``grace`` keeps recently expired rows a while longer, so a
replayed code or refresh token is still *recognised* as a replay (and revokes its grant) rather
than answered as unknown.

A *used* refresh token is a tombstone: it stays as long as its family could live (its absolute
``expires_at``), so presenting it again is always recognised as reuse and revokes the family
(RFC 9700 §4.14.2), however late the thief tries. Tombstones of a revoked grant go after
``grace``: that family is already dead, and a replay of them is refused either way.

A grant is deleted once nothing can refer to it any more: it is older than ``grace``, and none of
its codes or refresh tokens is left. Access tokens of a deleted grant introspect as inactive.

``purge_periodically`` is the server's own clean-up loop: one purge every ``interval`` seconds,
small batches with pauses, and a failed purge is logged and retried rather than fatal.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any

from sqlalchemy import Table, and_, delete, exists, select

from tokenpath.storage.sql import models as m
from tokenpath.storage.sql.execution import Executor

__all__ = ["purge_expired", "purge_periodically"]

log = logging.getLogger("tokenpath")


def _conditions(now: int, cutoff: int) -> list[tuple[str, Table, Any]]:
    """(counted as, table, condition): each condition a range on one indexed column."""
    refresh, codes, grants, initial = m.refresh_tokens, m.codes, m.grants, m.initial_access_tokens
    orphan = and_(
        grants.c.created_at < cutoff,
        ~exists().where(refresh.c.grant_id == grants.c.grant_id),
        ~exists().where(codes.c.grant_id == grants.c.grant_id),
    )
    revoked_family = exists().where(
        grants.c.grant_id == refresh.c.grant_id, grants.c.revoked_at.is_not(None)
    )
    return [
        ("codes", codes, codes.c.expires_at < cutoff),
        ("access_tokens", m.access_tokens, m.access_tokens.c.expires_at < cutoff),
        ("refresh_tokens", refresh, refresh.c.expires_at < cutoff),
        ("refresh_tokens", refresh, and_(refresh.c.used_at < cutoff, revoked_family)),
        ("grants", grants, orphan),
        ("sessions", m.sessions, m.sessions.c.expires_at < now),
        ("replay_cache", m.replay_cache, m.replay_cache.c.expires_at < now),
        ("rate_limits", m.rate_limits, m.rate_limits.c.expires_at < now),
        ("initial_access_tokens", initial, initial.c.expires_at < now),
        ("pushed_requests", m.pushed_requests, m.pushed_requests.c.expires_at < now),
        ("revocation_events", m.revocation_events, m.revocation_events.c.expires_at < now),
        # unindexed, but the table holds only the tokens an operator issued
        ("initial_access_tokens", initial, initial.c.uses_left <= 0),
    ]


def _batch_delete(table: Table, condition: Any, batch: int) -> tuple[Any, bool]:
    """The delete statement, and whether it takes at most ``batch`` rows at a time (single-column
    keys; the small composite-key tables are deleted in one statement)."""
    keys = list(table.primary_key.columns)
    if len(keys) != 1:
        return delete(table).where(condition), False
    (key,) = keys
    return delete(table).where(key.in_(select(key).where(condition).limit(batch))), True


async def purge_expired(
    db: Executor, now: int, *, grace: int = 24 * 3600, batch: int = 5000, pause: float = 0.0
) -> dict[str, int]:
    """Delete expired rows, batch by batch; the number deleted per table.

    A server purging while it serves passes a smaller ``batch`` and a ``pause`` between batches:
    on SQLite a batch runs on the event loop, so each one delays requests while it runs.
    """
    counts: dict[str, int] = {}
    for name, table, condition in _conditions(now, now - grace):
        statement, batched = _batch_delete(table, condition, batch)
        total = 0
        while True:
            deleted = await db.rowcount(statement)
            total += deleted
            if deleted < batch or not batched:
                break
            await asyncio.sleep(pause)  # let requests in between batches
        counts[name] = counts.get(name, 0) + total
    return counts


async def purge_periodically(db: Executor, interval: int) -> None:
    """Purge expired rows every ``interval`` seconds until cancelled, starting at a random offset
    so the workers and machines of a fleet spread out (running it twice at once is harmless)."""
    await asyncio.sleep(random.uniform(0, interval))  # noqa: S311 - scheduling jitter, not a secret
    while True:
        try:
            counts = await purge_expired(db, int(time.time()), batch=1000, pause=0.01)
            log.info("expired rows purged: %s", counts)
        except Exception:  # a failed purge is retried next time; it must not stop the server
            log.exception("clean-up of expired rows failed")
        await asyncio.sleep(interval)
