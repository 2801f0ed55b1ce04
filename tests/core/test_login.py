import pytest

from tests.core.conftest import Harness
from tokenpath.core.clock import hash_token
from tokenpath.core.errors import SlowDown
from tokenpath.core.login import current_session, login, logout
from tokenpath.core.registration import create_user

pytestmark = pytest.mark.anyio


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
    await create_user(ctx=harness.ctx, username="alice", password="correct horse")
    assert await login("alice", "wrong horse", ctx=harness.ctx) is None
    assert await login("mallory", "correct horse", ctx=harness.ctx) is None
    assert harness.ctx.stores.sessions.rows == {}  # type: ignore[attr-defined]


async def test_session_expires(harness: Harness) -> None:
    await create_user(ctx=harness.ctx, username="alice", password="correct horse")
    result = await login("alice", "correct horse", ctx=harness.ctx)
    assert isinstance(result, tuple)
    harness.clock.advance(harness.ctx.policy.session_lifetime)
    assert await current_session(result[0], ctx=harness.ctx) is None
    assert await current_session("", ctx=harness.ctx) is None


async def test_guessing_is_throttled_per_username(harness: Harness) -> None:
    """Catalog A20: after the limit, even the right password waits until the window ends."""
    await create_user(ctx=harness.ctx, username="alice", password="correct horse")
    limit = harness.ctx.policy.login_failures_per_minute
    for _ in range(limit):
        assert await login("Alice", "guess", ctx=harness.ctx) is None
    throttled = await login("alice", "correct horse", ctx=harness.ctx)
    assert isinstance(throttled, SlowDown) and throttled.status == 429
    assert await login("bob", "whatever1", ctx=harness.ctx) is None  # other users unaffected
    harness.clock.advance(60)
    assert isinstance(await login("alice", "correct horse", ctx=harness.ctx), tuple)
