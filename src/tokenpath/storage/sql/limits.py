"""Shared short-lived state in SQL: token buckets with back-off, and the replay cache.

Invariants (pinned by ``tests/storage/test_limits.py`` on SQLite and PostgreSQL):

* Every decision is one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``: the database
  serialises concurrent callers on the row, so N simultaneous reservations on a bucket with k
  tokens grant at most k, in one process or many (catalog A20, RFC 6749 §10.10).
* The upsert computes the new bucket from the *old* row in SQL, the same arithmetic as
  :func:`tokenpath.storage.memory.reserve_bucket` (the reference); ``granted`` records this
  statement's outcome, so ``RETURNING`` tells the caller whether it got a token.
* Keys are stored as SHA-256 hex (64 characters) whatever their length; rows past
  ``expires_at`` count as absent and are deleted by ``maintenance.purge_expired``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, and_, bindparam, case, delete, func, or_, update

from tokenpath.core.ports import Limit, Reservation
from tokenpath.storage.memory import (
    BACKOFF_START_MS,
    Bucket,
    limit_key,
    reserve_bucket,
    retry_after,
)
from tokenpath.storage.sql import models as m
from tokenpath.storage.sql.execution import Executor
from tokenpath.storage.sql.statements import upsert

__all__ = ["SqlRateLimiter", "SqlReplayCache"]


def _param(name: str) -> Any:
    return bindparam(name, type_=BigInteger)


class SqlReplayCache:
    def __init__(self, db: Executor) -> None:
        self.db = db
        table = m.replay_cache
        statement = upsert(db.dialect, table).values(
            key=bindparam("p_key"), expires_at=bindparam("p_expires")
        )
        self._first_use = statement.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={"expires_at": statement.excluded.expires_at},
            where=table.c.expires_at <= bindparam("p_now"),
        ).returning(table.c.key)

    async def first_use(self, key: str, expires_at: int, now: int) -> bool:
        params = {"p_key": key, "p_expires": expires_at, "p_now": now}
        return await self.db.write(self._first_use, params) is not None


class SqlRateLimiter:
    """:class:`~tokenpath.core.ports.RateLimiter` as one upsert per reservation."""

    def __init__(self, db: Executor) -> None:
        self.db = db
        sqlite_functions = db.dialect != "postgresql"
        greatest = func.max if sqlite_functions else func.greatest
        least = func.min if sqlite_functions else func.least
        t = m.rate_limits
        now, period, burst, cap = (_param(n) for n in ("p_now", "p_period", "p_burst", "p_cap"))
        fresh = t.c.expires_at <= _param("p_now_s")
        base = case((fresh, now), else_=greatest(t.c.tat, now))
        not_before = case((fresh, 0), else_=t.c.not_before)
        backoff = case((fresh, 0), else_=t.c.backoff)
        granted = and_(now >= not_before, base + period <= now + burst)
        drains = and_(granted, or_(backoff > 0, base + period > now + burst - period))
        delay = least(case((backoff > 0, backoff * 2), else_=BACKOFF_START_MS), cap)
        statement = upsert(db.dialect, t).values(
            key=bindparam("p_key"),
            tat=_param("p_tat"),
            not_before=_param("p_not_before"),
            backoff=_param("p_backoff"),
            granted=True,
            expires_at=_param("p_expires"),
        )
        self._reserve = statement.on_conflict_do_update(
            index_elements=[t.c.key],
            set_={
                "tat": case((granted, base + period), else_=base),
                "not_before": case((drains, now + delay), else_=not_before),
                "backoff": case((drains, delay), else_=backoff),
                "granted": granted,
                "expires_at": _param("p_expires"),
            },
        ).returning(t.c.tat, t.c.not_before, t.c.backoff, t.c.granted, t.c.expires_at)
        self._release = (
            update(t)
            .where(t.c.key == bindparam("p_key"), t.c.expires_at > _param("p_now_s"))
            .values(tat=t.c.tat - _param("p_period"))
        )
        self._reset = delete(t).where(t.c.key == bindparam("p_key"))

    async def reserve(self, key: str, now: int, limit: Limit) -> Reservation:
        first, _ = reserve_bucket(None, now, limit)  # the row when the key is new
        params = {
            "p_key": limit_key(key),
            "p_now": now * 1000,
            "p_now_s": now,
            "p_period": limit.period_ms,
            "p_burst": limit.burst_ms,
            "p_cap": limit.backoff_cap * 1000,
            "p_tat": first.tat,
            "p_not_before": first.not_before,
            "p_backoff": first.backoff,
            "p_expires": first.expires_at,
        }
        row = await self.db.write(self._reserve, params)
        assert row is not None  # an upsert always returns its row
        if row.granted:
            return Reservation(True)
        bucket = Bucket(
            tat=row.tat, not_before=row.not_before, backoff=row.backoff, expires_at=row.expires_at
        )
        return Reservation(False, retry_after(bucket, now, limit))

    async def release(self, key: str, now: int, limit: Limit) -> None:
        params = {"p_key": limit_key(key), "p_now_s": now, "p_period": limit.period_ms}
        await self.db.write(self._release, params)

    async def reset(self, key: str) -> None:
        await self.db.write(self._reset, {"p_key": limit_key(key)})
