"""Expired rows are purged; live ones, and recently expired ones inside the grace, stay."""

from __future__ import annotations

import pytest

from tests.storage.test_sql_lifecycle import refresh
from tests.storage.test_stores import code
from tokenpath.core.ports import Limit, Stores
from tokenpath.core.records import AccessTokenRecord, Grant, GrantType, InitialAccessToken, Session
from tokenpath.storage.sql import open_database, purge_expired

pytestmark = pytest.mark.anyio


def token(jti: str, expires_at: int) -> AccessTokenRecord:
    return AccessTokenRecord(
        jti=jti,
        grant_id="g",
        client_id="c",
        subject="s",
        scope=("a",),
        audience="x",
        grant_type=GrantType.CLIENT_CREDENTIALS,
        issued_at=0,
        expires_at=expires_at,
    )


async def test_purge_expired(db_url: str, stores: Stores) -> None:
    now, grace = 100_000, 1_000
    await stores.tokens.add(token("old", now - grace - 1))
    await stores.tokens.add(token("recent", now - 10))
    await stores.tokens.add(token("live", now + 10))
    await stores.refresh_tokens.add(
        refresh("rt-old", expires_at=now - grace - 1, idle_expires_at=1)
    )
    await stores.refresh_tokens.add(
        refresh("rt-used", expires_at=now + 9_999, idle_expires_at=now + 9_999)
    )
    assert await stores.refresh_tokens.use("rt-used", now - grace - 5) is not None
    await stores.grants.add(grant("dead-family", 0))
    await stores.refresh_tokens.add(
        refresh(
            "rt-used-revoked",
            grant_id="dead-family",
            expires_at=now + 9_999,
            idle_expires_at=now + 9_999,
        )
    )
    assert await stores.refresh_tokens.use("rt-used-revoked", now - grace - 5) is not None
    await stores.grants.revoke("dead-family", now - grace - 5)
    await stores.refresh_tokens.add(
        refresh("rt-live", expires_at=now + 9_999, idle_expires_at=now + 9_999)
    )
    await stores.sessions.add(
        Session(session_hash="s-old", user_id="u", auth_time=0, expires_at=now - 1)
    )
    await stores.sessions.add(
        Session(session_hash="s-live", user_id="u", auth_time=0, expires_at=now + 1)
    )
    await stores.rate_limits.reserve("k", 10, Limit(per_window=1))
    database = await open_database(db_url)
    try:
        counts = await purge_expired(database.executor, now, grace=grace)
    finally:
        await database.close()
    assert counts["access_tokens"] == 1 and counts["refresh_tokens"] == 2
    assert counts["sessions"] == 1 and counts["rate_limits"] == 1
    assert await stores.tokens.get("old") is None
    assert (
        await stores.tokens.get("recent") is not None
        and await stores.tokens.get("live") is not None
    )
    assert await stores.refresh_tokens.get("rt-live") is not None
    # a used token of a live family is kept until the family ends, so reuse is always detected
    assert await stores.refresh_tokens.get("rt-used") is not None
    assert await stores.refresh_tokens.get("rt-used-revoked") is None
    assert await stores.sessions.get("s-live", now) is not None


def grant(grant_id: str, created_at: int) -> Grant:
    return Grant(grant_id=grant_id, client_id="c", user_id="u", scope=("a",), created_at=created_at)


async def test_grants_go_once_nothing_refers_to_them(db_url: str, stores: Stores) -> None:
    """Old grants with no code or refresh token left are deleted; the rest stay."""
    now, grace = 100_000, 1_000
    old = now - grace - 1
    for grant_id in ("dead", "with-refresh", "with-code", "young"):
        await stores.grants.add(grant(grant_id, now - 10 if grant_id == "young" else old))
    await stores.refresh_tokens.add(
        refresh("rt", grant_id="with-refresh", expires_at=now + 99, idle_expires_at=now + 99)
    )
    await stores.codes.add(code("live-code", grant_id="with-code", expires_at=now + 60))
    database = await open_database(db_url)
    try:
        counts = await purge_expired(database.executor, now, grace=grace)
    finally:
        await database.close()
    assert counts["grants"] == 1
    assert await stores.grants.get("dead") is None
    for kept in ("with-refresh", "with-code", "young"):
        assert await stores.grants.get(kept) is not None


async def test_large_backlogs_go_in_batches(db_url: str, stores: Stores) -> None:
    now = 100_000
    for i in range(7):
        await stores.tokens.add(token(f"t{i}", now - 10_000))
    await stores.tokens.add(token("live", now + 10))
    database = await open_database(db_url)
    try:
        counts = await purge_expired(database.executor, now, grace=0, batch=3)
    finally:
        await database.close()
    assert counts["access_tokens"] == 7
    assert await stores.tokens.get("live") is not None and await stores.tokens.get("t6") is None


async def test_expired_and_used_up_initial_access_tokens_go(db_url: str, stores: Stores) -> None:
    now = 100_000
    tokens = stores.initial_access_tokens
    for name, uses, expires in [
        ("expired", 3, now - 1),
        ("used-up", 1, now + 50),
        ("live", 1, now + 50),
        ("forever", None, None),
    ]:
        await tokens.add(
            InitialAccessToken(token_hash=name, uses_left=uses, expires_at=expires, created_at=0)
        )
    assert await tokens.use("used-up", now) is True
    database = await open_database(db_url)
    try:
        counts = await purge_expired(database.executor, now)
    finally:
        await database.close()
    assert counts["initial_access_tokens"] == 2
    assert await tokens.get("live", now) is not None and await tokens.get("forever", now)
