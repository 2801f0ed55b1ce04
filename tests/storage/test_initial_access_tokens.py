"""The initial access token port and client deletion on every adapter: memory, SQLite, PostgreSQL.

Dynamic registration (``core/dynamic_registration.py``) relies on ``use`` being atomic: a token
with ``n`` uses left admits at most ``n`` registrations, however many arrive at once.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.storage.test_stores import client
from tokenpath.core.clock import hash_token
from tokenpath.core.ports import Stores
from tokenpath.core.records import InitialAccessToken

pytestmark = pytest.mark.anyio


def token(raw: str = "iat", **changes: object) -> InitialAccessToken:
    values: dict[str, object] = {
        "token_hash": hash_token(raw),
        "uses_left": 2,
        "expires_at": 100,
        "created_at": 1,
    }
    values.update(changes)
    return InitialAccessToken(**values)  # type: ignore[arg-type]


async def test_uses_count_down_to_nothing(any_stores: Stores) -> None:
    tokens = any_stores.initial_access_tokens
    await tokens.add(token())
    assert await tokens.get(hash_token("iat"), 50) == token()
    assert await tokens.use(hash_token("iat"), 50) is True
    assert await tokens.get(hash_token("iat"), 50) == token(uses_left=1)
    assert await tokens.use(hash_token("iat"), 50) is True
    assert await tokens.get(hash_token("iat"), 50) is None
    assert await tokens.use(hash_token("iat"), 50) is False
    assert await tokens.use(hash_token("unknown"), 50) is False


async def test_an_expired_token_is_neither_found_nor_used(any_stores: Stores) -> None:
    tokens = any_stores.initial_access_tokens
    await tokens.add(token())
    assert await tokens.get(hash_token("iat"), 100) is None
    assert await tokens.use(hash_token("iat"), 100) is False
    assert await tokens.get(hash_token("iat"), 99) is not None


async def test_unlimited_and_never_expiring(any_stores: Stores) -> None:
    tokens = any_stores.initial_access_tokens
    await tokens.add(token(uses_left=None, expires_at=None))
    for _ in range(5):
        assert await tokens.use(hash_token("iat"), 10**12) is True
    assert await tokens.get(hash_token("iat"), 10**12) == token(uses_left=None, expires_at=None)


async def test_concurrent_uses_never_exceed_what_is_left(any_stores: Stores) -> None:
    tokens = any_stores.initial_access_tokens
    await tokens.add(token(uses_left=3))
    results = await asyncio.gather(*(tokens.use(hash_token("iat"), 50) for _ in range(12)))
    assert sorted(results) == [False] * 9 + [True] * 3


async def test_a_deleted_client_is_gone_and_deleting_twice_is_harmless(
    any_stores: Stores,
) -> None:
    await any_stores.clients.add(client("c1"))
    await any_stores.clients.add(client("c2"))
    await any_stores.clients.delete("c1")
    await any_stores.clients.delete("c1")
    assert await any_stores.clients.get("c1") is None
    assert [c.client_id for c in await any_stores.clients.list()] == ["c2"]
