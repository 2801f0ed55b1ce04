"""Signing in: sessions, no enumeration, and guessing limits that hold under concurrency."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from tests.core.conftest import FastHasher, Harness, make_ctx
from tokenpath.core.clock import hash_token
from tokenpath.core.context import Context
from tokenpath.core.errors import SlowDown, TemporarilyUnavailable
from tokenpath.core.login import (
    ADDRESS_ATTEMPTS_PER_MINUTE,
    BACKOFF_CAP,
    UNKNOWN_SHARDS,
    SignInBusy,
    current_session,
    login,
    logout,
)
from tokenpath.core.ports import PasswordHasher, Stores
from tokenpath.core.registration import create_user
from tokenpath.storage.passwords import Argon2PasswordHasher

pytestmark = pytest.mark.anyio


class CountingHasher:
    """Counts every password check (real or dummy) that reaches the wrapped hasher."""

    def __init__(self, inner: PasswordHasher) -> None:
        self.inner = inner
        self.checks = 0

    async def hash(self, password: str) -> str:
        return await self.inner.hash(password)

    async def verify(self, password_hash: str, password: str) -> bool:
        self.checks += 1
        return await self.inner.verify(password_hash, password)

    async def dummy_verify(self) -> None:
        self.checks += 1
        await self.inner.dummy_verify()

    def needs_rehash(self, password_hash: str) -> bool:
        return self.inner.needs_rehash(password_hash)


class BusyHasher(FastHasher):
    async def verify(self, password_hash: str, password: str) -> bool:
        raise TemporarilyUnavailable("too many password checks in progress")

    async def dummy_verify(self) -> None:
        raise TemporarilyUnavailable("too many password checks in progress")


def counting(ctx: Context, inner: PasswordHasher | None = None) -> tuple[Context, CountingHasher]:
    hasher = CountingHasher(inner or FastHasher())
    return dataclasses.replace(ctx, passwords=hasher), hasher


async def test_login_stores_only_the_session_hash(harness: Harness) -> None:
    await create_user(ctx=harness.ctx, username="alice", password="correct horse")
    result = await login("alice", "correct horse", ctx=harness.ctx)
    assert isinstance(result, tuple)
    session_id, session = result
    assert len(session_id) >= 43 and session.session_hash == hash_token(session_id)
    rows = harness.ctx.stores.sessions.rows  # type: ignore[attr-defined]
    assert list(rows) == [hash_token(session_id)]
    assert await current_session(session_id, ctx=harness.ctx) == session
    await logout(session_id, ctx=harness.ctx)
    assert await current_session(session_id, ctx=harness.ctx) is None


async def test_wrong_password_and_unknown_user_look_the_same(harness: Harness) -> None:
    """Same answer, and each costs exactly one password check (a dummy one when unknown)."""
    await create_user(ctx=harness.ctx, username="alice", password="correct horse")
    ctx, hasher = counting(harness.ctx)
    assert await login("alice", "wrong horse", ctx=ctx) is None
    assert hasher.checks == 1
    assert await login("mallory", "correct horse", ctx=ctx) is None
    assert hasher.checks == 2
    assert harness.ctx.stores.sessions.rows == {}  # type: ignore[attr-defined]


async def test_session_expires(harness: Harness) -> None:
    await create_user(ctx=harness.ctx, username="alice", password="correct horse")
    result = await login("alice", "correct horse", ctx=harness.ctx)
    assert isinstance(result, tuple)
    harness.clock.advance(harness.ctx.policy.session_lifetime)
    assert await current_session(result[0], ctx=harness.ctx) is None
    assert await current_session("", ctx=harness.ctx) is None


async def test_guessing_is_throttled_per_username(harness: Harness) -> None:
    """Catalog A20: after the limit even the right password waits; other users do not."""
    await create_user(ctx=harness.ctx, username="alice", password="correct horse")
    await create_user(ctx=harness.ctx, username="bob", password="correct horse")
    limit = harness.ctx.policy.login_failures_per_minute
    for _ in range(limit):
        assert await login("alice", "guess", ctx=harness.ctx) is None
    throttled = await login("alice", "correct horse", ctx=harness.ctx)
    assert isinstance(throttled, SlowDown) and throttled.status == 429
    assert throttled.retry_after == 60 // limit  # one attempt back per 60/limit s
    assert await login("bob", "whatever1", ctx=harness.ctx) is None  # other users unaffected
    harness.clock.advance(throttled.retry_after)
    assert isinstance(await login("alice", "correct horse", ctx=harness.ctx), tuple)


async def test_a_successful_sign_in_resets_the_account(harness: Harness) -> None:
    await create_user(ctx=harness.ctx, username="alice", password="correct horse")
    limit = harness.ctx.policy.login_failures_per_minute
    for _ in range(limit - 1):
        assert await login("alice", "typo", ctx=harness.ctx) is None
    assert isinstance(await login("alice", "correct horse", ctx=harness.ctx), tuple)
    for _ in range(limit):
        assert await login("alice", "typo", ctx=harness.ctx) is None
    assert isinstance(await login("alice", "typo", ctx=harness.ctx), SlowDown)


async def test_back_off_grows_to_the_cap_and_never_locks_out_longer(harness: Harness) -> None:
    await create_user(ctx=harness.ctx, username="alice", password="correct horse")
    for _ in range(harness.ctx.policy.login_failures_per_minute):
        await login("alice", "guess", ctx=harness.ctx)
    waits = []
    for _ in range(14):  # an attacker guessing whenever the server lets it
        refused = await login("alice", "guess", ctx=harness.ctx)
        assert isinstance(refused, SlowDown)
        waits.append(refused.retry_after)
        harness.clock.advance(refused.retry_after)
        assert await login("alice", "guess", ctx=harness.ctx) is None
    # One attempt back per 60/10 s at first; then the back-off doubles past it, to the cap.
    assert waits == [6, 6, 6, 8, 16, 32, 64, 128, 256, 512, BACKOFF_CAP, 900, 900, 900]
    # The owner waits at most the cap, then the right password is accepted.
    refused = await login("alice", "correct horse", ctx=harness.ctx)
    assert isinstance(refused, SlowDown) and refused.retry_after <= BACKOFF_CAP
    harness.clock.advance(refused.retry_after)
    assert isinstance(await login("alice", "correct horse", ctx=harness.ctx), tuple)


async def test_unknown_names_draw_from_a_bounded_set_of_shared_buckets(harness: Harness) -> None:
    """Invented user names cannot each open a fresh bucket: they fall into at most
    ``UNKNOWN_SHARDS`` buckets, and one unknown name is throttled exactly like one account."""
    await create_user(ctx=harness.ctx, username="alice", password="correct horse")
    ctx, hasher = counting(harness.ctx)
    limit = ctx.policy.login_failures_per_minute
    for _ in range(limit):
        assert await login("nobody", "guess", ctx=ctx) is None
        assert await login("alice", "guess", ctx=ctx) is None
    # the same answer for the unknown name and the real account: no oracle for which exists
    assert isinstance(await login("nobody", "guess", ctx=ctx), SlowDown)
    assert isinstance(await login("alice", "guess", ctx=ctx), SlowDown)
    assert hasher.checks == 2 * limit  # one (dummy) check each, none once throttled
    for n in range(3 * UNKNOWN_SHARDS // 2):  # more names than buckets
        await login(f"invented-{n}", "guess", ctx=ctx)
    rows = ctx.stores.rate_limits.rows  # type: ignore[attr-defined]
    assert len(rows) <= UNKNOWN_SHARDS + 1  # the shards, plus alice's account


async def test_over_long_names_are_unknown_and_keys_stay_short(harness: Harness) -> None:
    await create_user(ctx=harness.ctx, username="alice", password="correct horse")
    assert await login("a" * 12_000, "guess", ctx=harness.ctx) is None
    assert await login("alice", "x" * 5000, ctx=harness.ctx) is None
    rows = harness.ctx.stores.rate_limits.rows  # type: ignore[attr-defined]
    assert rows and all(len(key) == 64 for key in rows)


async def test_attempts_are_limited_per_address(harness: Harness) -> None:
    """Spraying one guess at many accounts from one address runs into the address's bucket."""
    for n in range(ADDRESS_ATTEMPTS_PER_MINUTE + 1):
        await create_user(ctx=harness.ctx, username=f"user{n}", password="correct horse")
    for n in range(ADDRESS_ATTEMPTS_PER_MINUTE):
        assert await login(f"user{n}", "guess", ctx=harness.ctx, address="192.0.2.7") is None
    last = f"user{ADDRESS_ATTEMPTS_PER_MINUTE}"
    assert isinstance(
        await login(last, "correct horse", ctx=harness.ctx, address="192.0.2.7"), SlowDown
    )
    signed_in = await login(last, "correct horse", ctx=harness.ctx, address="198.51.100.1")
    assert isinstance(signed_in, tuple)


async def test_successful_sign_ins_do_not_use_up_the_address(harness: Harness) -> None:
    """Many people behind one address (an office) each sign in; only failures count."""
    await create_user(ctx=harness.ctx, username="alice", password="correct horse")
    for _ in range(ADDRESS_ATTEMPTS_PER_MINUTE * 2):
        result = await login("alice", "correct horse", ctx=harness.ctx, address="192.0.2.7")
        assert isinstance(result, tuple)


async def test_a_full_hashing_queue_answers_busy_and_gives_the_attempt_back(
    harness: Harness,
) -> None:
    await create_user(ctx=harness.ctx, username="alice", password="correct horse")
    busy = dataclasses.replace(harness.ctx, passwords=BusyHasher())
    for _ in range(harness.ctx.policy.login_failures_per_minute * 3):
        result = await login("alice", "guess", ctx=busy, address="192.0.2.7")
        assert isinstance(result, SignInBusy) and result.status == 503
        assert result.retry_after >= 1
    # Nothing was checked, so nothing was counted: the owner signs in at once.
    signed_in = await login("alice", "correct horse", ctx=harness.ctx, address="192.0.2.7")
    assert isinstance(signed_in, tuple)


async def test_concurrent_guesses_cause_at_most_limit_password_checks(stores: Stores) -> None:
    """30 wrong passwords at once for one user, real argon2id, SQLite and PostgreSQL."""
    argon2 = Argon2PasswordHasher(time_cost=1, memory_cost=1024, queue=64)
    ctx, hasher = counting(make_ctx(stores), argon2)
    await create_user(ctx=ctx, username="alice", password="correct horse")
    limit = ctx.policy.login_failures_per_minute
    results = await asyncio.gather(*(login("alice", f"guess{n}", ctx=ctx) for n in range(30)))
    assert hasher.checks <= limit
    assert results.count(None) == hasher.checks
    throttled = [r for r in results if isinstance(r, SlowDown)]
    assert len(throttled) == 30 - hasher.checks >= 30 - limit
