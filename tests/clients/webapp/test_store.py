"""The web app's session table on SQLite and PostgreSQL: hashing, expiry, one-time state."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tokenpath.clients.webapp.oauth import TokenSet
from tokenpath.clients.webapp.store import (
    PENDING_LIFETIME,
    SESSION_LIFETIME,
    WebSession,
    WebSessionStore,
    open_engine,
)

pytestmark = pytest.mark.anyio
NOW = 1_800_000_000
TOKENS = TokenSet(access_token="at-1", refresh_token="rt-1", expires_in=600, scope="openid")


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[WebSessionStore]:
    engine = open_engine(db_url)
    store = WebSessionStore(engine)
    await store.create_table()
    await store.create_table()  # idempotent: every start-up runs it
    try:
        yield store
    finally:
        await engine.dispose()


async def _start(store: WebSessionStore, now: int = NOW) -> tuple[str, WebSession]:
    return await store.start(now, state="state-1", code_verifier="verifier-1")


async def test_the_table_keeps_the_hash_of_the_cookie_not_the_cookie(
    store: WebSessionStore,
) -> None:
    session_id, _ = await _start(store)
    async with store.engine.connect() as conn:
        dump = str((await conn.execute(text("SELECT * FROM webapp_sessions"))).all())
    assert session_id not in dump
    assert hashlib.sha256(session_id.encode()).hexdigest() in dump
    found = await store.get(session_id, NOW)
    assert found is not None and found.state == "state-1" and not found.signed_in
    assert await store.get(session_id + "x", NOW) is None
    assert await store.get(None, NOW) is None


async def test_a_pending_sign_in_expires_after_ten_minutes(store: WebSessionStore) -> None:
    session_id, _ = await _start(store)
    assert await store.get(session_id, NOW + PENDING_LIFETIME - 1) is not None
    assert await store.get(session_id, NOW + PENDING_LIFETIME) is None


async def test_state_is_taken_exactly_once_under_concurrency(store: WebSessionStore) -> None:
    session_id, _ = await _start(store)
    session = await store.get(session_id, NOW)
    assert session is not None
    results = await asyncio.gather(*(store.take_pending(session) for _ in range(10)))
    assert sum(r is not None for r in results) == 1
    after = await store.get(session_id, NOW)
    assert after is not None and after.state is None and after.code_verifier is None


async def test_signing_in_rotates_the_session_id_and_extends_the_lifetime(
    store: WebSessionStore,
) -> None:
    pending_id, _ = await _start(store)
    pending = await store.take_pending(await _get(store, pending_id))
    assert pending is not None
    signed_in_id = await store.sign_in(pending, TOKENS, profile='{"sub": "u1"}', now=NOW + 5)
    assert signed_in_id != pending_id
    assert await store.get(pending_id, NOW + 5) is None
    session = await _get(store, signed_in_id, NOW + 4 + SESSION_LIFETIME)
    assert session.signed_in and session.access_token == "at-1"
    assert session.token_expires_at == NOW + 5 + 600 and session.profile == '{"sub": "u1"}'
    assert await store.get(signed_in_id, NOW + 5 + SESSION_LIFETIME) is None
    assert [s.id_hash for s in await store.signed_in()] == [session.id_hash]


async def test_a_refresh_replaces_tokens_only_once(store: WebSessionStore) -> None:
    pending_id, _ = await _start(store)
    pending = await store.take_pending(await _get(store, pending_id))
    assert pending is not None
    session = await _get(store, await store.sign_in(pending, TOKENS, profile=None, now=NOW))
    renewed = TokenSet(access_token="at-2", refresh_token="rt-2", expires_in=600, scope=None)
    first = await store.replace_tokens(session, renewed, now=NOW + 1)
    assert first is not None and first.refresh_token == "rt-2" and first.refreshes == 1
    # a second request still holding rt-1 must not overwrite what the first one stored
    assert await store.replace_tokens(session, renewed, now=NOW + 1) is None
    # no new refresh token in the answer: the old one stays (RFC 6749 §6)
    kept = await store.replace_tokens(
        first,
        TokenSet(access_token="at-3", refresh_token=None, expires_in=None, scope=None),
        now=NOW + 2,
    )
    assert kept is not None and kept.refresh_token == "rt-2" and kept.token_expires_at is None


async def test_starting_again_replaces_the_old_session_and_purges_expired_rows(
    store: WebSessionStore,
) -> None:
    old_id, _ = await _start(store)
    stale_id, _ = await _start(store, now=NOW - PENDING_LIFETIME - 1)
    new_id, _ = await store.start(NOW, state="s2", code_verifier="v2", replacing=old_id)
    async with store.engine.connect() as conn:
        count = (await conn.execute(text("SELECT count(*) FROM webapp_sessions"))).scalar()
    assert count == 1
    assert await store.get(new_id, NOW) is not None
    assert stale_id != new_id


async def test_delete(store: WebSessionStore) -> None:
    session_id, _ = await _start(store)
    await store.delete(await _get(store, session_id))
    assert await store.get(session_id, NOW) is None


def test_in_memory_sqlite_is_refused() -> None:
    with pytest.raises(ValueError, match="SQLite file"):
        open_engine("sqlite+aiosqlite:///:memory:")


async def _get(store: WebSessionStore, session_id: str, now: int = NOW) -> WebSession:
    session = await store.get(session_id, now)
    assert session is not None
    return session


def test_the_session_file_is_private_to_its_owner(tmp_path: Path) -> None:
    """The app's session table holds tokens: no other local user may read it."""
    database = tmp_path / "nested" / "webapp.db"
    open_engine(f"sqlite+aiosqlite:///{database}")
    assert database.stat().st_mode & 0o777 == 0o600
    assert database.parent.stat().st_mode & 0o777 == 0o700
