"""A short-lived, per-process cache of client records in front of any ``ClientStore``.

Every token request authenticates a client, and client records change rarely (an operator's
``tokenpath client update``), so reading one from the database per request is the largest cost
of a client-credentials grant. Records found are kept for ``ttl`` seconds: a change made through
this process applies at once; a change made elsewhere (another worker, another machine, the CLI)
applies within ``ttl``. Unknown client ids are not cached, so a new client works at once, and
the cache holds at most ``max_entries`` records, dropping the oldest first.
"""

from __future__ import annotations

from collections.abc import Sequence

from tokenpath.core.clock import Clock
from tokenpath.core.ports import ClientStore
from tokenpath.core.records import Client
from tokenpath.core.ttl import TtlCache

__all__ = ["CachedClientStore"]


class CachedClientStore:
    def __init__(
        self, inner: ClientStore, clock: Clock, *, ttl: int, max_entries: int = 10_000
    ) -> None:
        self._inner = inner
        self._clock = clock
        self._ttl = ttl
        self._entries: TtlCache[str, Client] = TtlCache(max_entries)

    async def get(self, client_id: str) -> Client | None:
        now = self._clock.now()
        cached = self._entries.get(client_id, now)
        if cached is not None:
            return cached
        client = await self._inner.get(client_id)
        if client is not None:
            self._entries.put(client_id, client, until=now + self._ttl)
        return client

    async def add(self, client: Client) -> None:
        await self._inner.add(client)
        self._entries.pop(client.client_id)

    async def update(self, client: Client) -> None:
        await self._inner.update(client)
        self._entries.pop(client.client_id)

    async def list(self) -> Sequence[Client]:
        return await self._inner.list()

    async def delete(self, client_id: str) -> bool:
        try:
            return await self._inner.delete(client_id)
        finally:
            self._entries.pop(client_id)

    async def set_disabled(self, client_id: str, disabled_at: int | None) -> bool:
        try:
            return await self._inner.set_disabled(client_id, disabled_at)
        finally:
            self._entries.pop(client_id)

    async def rotate_secret(
        self, client_id: str, secret_hash: str, previous_until: int | None
    ) -> bool:
        try:
            return await self._inner.rotate_secret(client_id, secret_hash, previous_until)
        finally:
            self._entries.pop(client_id)
