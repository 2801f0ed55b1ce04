"""Token-lifecycle stores on real SQLite and PostgreSQL: atomic use, replay, keys."""

from __future__ import annotations

import asyncio

import pytest

from tokenpath.core.ports import Stores
from tokenpath.core.records import Grant, RefreshTokenRecord, SigningKey

pytestmark = pytest.mark.anyio


def refresh(token_hash: str = "h1", **changes: object) -> RefreshTokenRecord:
    values: dict[str, object] = {
        "token_hash": token_hash,
        "grant_id": "g1",
        "client_id": "c1",
        "user_id": "u1",
        "scope": ("openid", "notes:read"),
        "issued_at": 100,
        "expires_at": 1000,
        "idle_expires_at": 500,
    }
    values.update(changes)
    return RefreshTokenRecord(**values)  # type: ignore[arg-type]


async def test_refresh_token_round_trip_and_single_use(stores: Stores) -> None:
    await stores.refresh_tokens.add(refresh())
    assert await stores.refresh_tokens.get("h1") == refresh()
    winners = await asyncio.gather(*(stores.refresh_tokens.use("h1", 200) for _ in range(20)))
    assert sum(w is not None for w in winners) == 1
    stored = await stores.refresh_tokens.get("h1")
    assert stored is not None and stored.used_at == 200


async def test_refresh_token_use_refuses_expired(stores: Stores) -> None:
    await stores.refresh_tokens.add(refresh("idle"))
    await stores.refresh_tokens.add(refresh("abs", idle_expires_at=2000))
    assert await stores.refresh_tokens.use("idle", 500) is None
    assert await stores.refresh_tokens.use("abs", 1000) is None
    assert await stores.refresh_tokens.use("missing", 1) is None


async def test_replay_cache_is_first_use_only_until_expiry(stores: Stores) -> None:
    results = await asyncio.gather(*(stores.replay.first_use("jti:1", 150, 100) for _ in range(10)))
    assert sum(results) == 1
    assert not await stores.replay.first_use("jti:1", 300, 149)
    assert await stores.replay.first_use("jti:1", 300, 150)  # expired entry may be reused


async def test_grant_revocation_is_idempotent(stores: Stores) -> None:
    await stores.grants.add(
        Grant(grant_id="g1", client_id="c", user_id="u", scope=("a",), created_at=1)
    )
    await stores.grants.revoke("g1", 10)
    await stores.grants.revoke("g1", 20)
    grant = await stores.grants.get("g1")
    assert grant is not None and grant.revoked_at == 10


async def test_keys_newest_first_and_retire(stores: Stores) -> None:
    for kid, created in (("a", 1), ("b", 3), ("c", 2)):
        await stores.keys.add(
            SigningKey(kid=kid, alg="ES256", private_jwk="{}", created_at=created)
        )
    assert [k.kid for k in await stores.keys.list_active()] == ["b", "c", "a"]
    await stores.keys.retire("c", 5)
    await stores.keys.retire("c", 6)
    assert [k.kid for k in await stores.keys.list_active()] == ["b", "a"]


async def test_consent_merges(stores: Stores) -> None:
    await stores.consents.add("u", "c", frozenset({"a", "b"}), 1)
    await stores.consents.add("u", "c", frozenset({"b", "c"}), 2)
    assert await stores.consents.get("u", "c") == {"a", "b", "c"}
    assert await stores.consents.get("u", "other") == frozenset()
