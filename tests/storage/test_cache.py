"""The client-record cache: reuses records for its TTL, never hides a change made through it."""

from __future__ import annotations

import dataclasses

import pytest

from tests.storage.test_stores import client
from tokenpath.core.clock import FixedClock
from tokenpath.core.records import Client
from tokenpath.storage.cache import CachedClientStore
from tokenpath.storage.memory import MemoryClientStore

pytestmark = pytest.mark.anyio


class CountingStore(MemoryClientStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def get(self, client_id: str) -> Client | None:
        self.reads += 1
        return await super().get(client_id)


async def test_records_are_reused_until_the_ttl_ends() -> None:
    inner, clock = CountingStore(), FixedClock()
    cache = CachedClientStore(inner, clock, ttl=10)
    await cache.add(client("c1"))
    assert await cache.get("c1") == client("c1") and await cache.get("c1") == client("c1")
    assert inner.reads == 1
    clock.advance(9)
    await cache.get("c1")
    assert inner.reads == 1
    clock.advance(1)
    await cache.get("c1")
    assert inner.reads == 2


async def test_a_change_made_elsewhere_shows_after_the_ttl() -> None:
    inner, clock = CountingStore(), FixedClock()
    cache = CachedClientStore(inner, clock, ttl=10)
    await inner.add(client("c1"))
    assert (await cache.get("c1")) == client("c1")
    changed = dataclasses.replace(client("c1"), client_name="renamed")
    await inner.update(changed)  # another process or the CLI
    assert (await cache.get("c1")) == client("c1")
    clock.advance(10)
    assert (await cache.get("c1")) == changed


async def test_a_change_made_through_the_cache_shows_at_once() -> None:
    cache = CachedClientStore(CountingStore(), FixedClock(), ttl=10)
    await cache.add(client("c1"))
    await cache.get("c1")
    changed = dataclasses.replace(client("c1"), grant_types=())
    await cache.update(changed)
    assert await cache.get("c1") == changed


async def test_unknown_ids_are_not_cached_and_size_is_bounded() -> None:
    inner = CountingStore()
    cache = CachedClientStore(inner, FixedClock(), ttl=10, max_entries=2)
    assert await cache.get("new") is None
    await inner.add(client("new"))
    assert await cache.get("new") == client("new")  # a new client works at once
    for name in ("a", "b", "c"):
        await inner.add(client(name))
        await cache.get(name)
    reads = inner.reads
    await cache.get("c")
    assert inner.reads == reads  # newest kept
    await cache.get("new")
    assert inner.reads == reads + 1  # oldest dropped
    assert {c.client_id for c in await cache.list()} == {"new", "a", "b", "c"}


async def test_a_client_deleted_through_the_cache_is_gone_at_once() -> None:
    cache = CachedClientStore(CountingStore(), FixedClock(), ttl=10)
    await cache.add(client("c1"))
    assert await cache.get("c1") is not None
    await cache.delete("c1")
    assert await cache.get("c1") is None
