"""Rate-limit buckets on every adapter: atomic reservations, refill, back-off, bounded keys."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from tokenpath.core.ports import Limit, Reservation, Stores
from tokenpath.storage.memory import memory_stores
from tokenpath.storage.sql import models as m
from tokenpath.storage.sql import open_database

pytestmark = pytest.mark.anyio

TEN = Limit(per_window=10, window=60, backoff_cap=900)


async def test_concurrent_reservations_grant_at_most_the_limit(any_stores: Stores) -> None:
    results = await asyncio.gather(
        *(any_stores.rate_limits.reserve("login:alice", 1000, TEN) for _ in range(30))
    )
    granted = [r for r in results if r.granted]
    assert len(granted) == 10
    assert all(r.retry_after >= 1 for r in results if not r.granted)
    assert (await any_stores.rate_limits.reserve("login:bob", 1000, TEN)).granted


async def test_tokens_refill_smoothly_with_no_double_burst_at_an_edge(any_stores: Stores) -> None:
    """A token comes back every window/limit seconds, never a whole window's worth at once."""
    limiter = any_stores.rate_limits
    wide = Limit(per_window=10, window=60, backoff_cap=1)
    for _ in range(9):
        assert (await limiter.reserve("k", 59, wide)).granted
    assert (await limiter.reserve("k", 59, wide)).granted  # the tenth empties the bucket
    # One second later a fixed window would start afresh with ten more; the bucket has none.
    refused = await limiter.reserve("k", 60, wide)
    assert refused == Reservation(False, 5)
    assert (await limiter.reserve("k", 65, wide)).granted
    assert not (await limiter.reserve("k", 66, wide)).granted


async def test_back_off_doubles_then_caps_and_is_forgotten(any_stores: Stores) -> None:
    limiter = any_stores.rate_limits
    one = Limit(per_window=1, window=1, backoff_cap=8, memory=100)
    now, delays = 0, []
    for _ in range(6):
        assert (await limiter.reserve("k", now, one)).granted
        refused = await limiter.reserve("k", now, one)
        assert not refused.granted
        delays.append(refused.retry_after)
        now += refused.retry_after
    assert delays == [1, 2, 4, 8, 8, 8]
    assert not (await limiter.reserve("k", now - 1, one)).granted
    # Quiet for longer than the row's memory: the key starts again at the shortest delay.
    later = now + one.window + one.backoff_cap + one.memory + 1
    assert (await limiter.reserve("k", later, one)).granted
    assert (await limiter.reserve("k", later, one)).retry_after == 1


async def test_release_gives_a_token_back_and_reset_forgets(any_stores: Stores) -> None:
    limiter = any_stores.rate_limits
    two = Limit(per_window=2, window=60)
    assert (await limiter.reserve("k", 0, two)).granted
    await limiter.release("k", 0, two)
    assert (await limiter.reserve("k", 0, two)).granted
    assert (await limiter.reserve("k", 0, two)).granted
    assert not (await limiter.reserve("k", 0, two)).granted
    await limiter.reset("k")
    assert (await limiter.reserve("k", 0, two)).granted
    await limiter.release("never-seen", 0, two)  # harmless
    await limiter.reset("never-seen")


async def test_sql_agrees_with_the_reference_arithmetic(any_stores: Stores) -> None:
    """A scripted mix of limits and times answers exactly as the dict adapter does."""
    reference = memory_stores().rate_limits
    limits = [TEN, Limit(per_window=3, window=7, backoff_cap=5), Limit(per_window=50)]
    steps = [(t * 3 // 2, i % 3, f"k{i % 4}") for i, t in enumerate(range(120))]
    for now, which, key in steps:
        expected = await reference.reserve(key, now, limits[which])
        assert await any_stores.rate_limits.reserve(key, now, limits[which]) == expected


async def test_keys_are_stored_hashed_at_fixed_length(db_url: str, stores: Stores) -> None:
    huge = "client-auth:" + "x" * 12_000
    assert (await stores.rate_limits.reserve(huge, 10, TEN)).granted
    database = await open_database(db_url)
    try:
        longest = await database.executor.one(select(func.max(func.length(m.rate_limits.c.key))))
    finally:
        await database.close()
    assert longest is not None and longest[0] == 64
