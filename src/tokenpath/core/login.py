"""Signing a user in at the authorization server, and the browser session that results.

The cookie carries a 256-bit random session id; the store keeps only its SHA-256, so a leaked
database does not yield live sessions. Unknown users cost the same argon2 time as wrong
passwords, and both get the same answer (no account enumeration, catalog A20).
"""

from __future__ import annotations

from tokenpath.core.clock import hash_token
from tokenpath.core.context import Context
from tokenpath.core.errors import SlowDown
from tokenpath.core.records import Session

__all__ = ["current_session", "login", "logout"]


_WINDOW = 60


async def login(
    username: str, password: str, *, ctx: Context
) -> tuple[str, Session] | SlowDown | None:
    """The raw session id (for the cookie) and the stored session; None for bad credentials.

    After ``Policy.login_failures_per_minute`` failures for one username, every attempt (right
    password or not) gets :class:`SlowDown` until the minute ends, so online guessing is capped
    at that rate whatever the attacker's bandwidth. Unknown usernames are counted alike.
    """
    now = ctx.clock.now()
    limit_key = f"login:{username.casefold()}"
    limits = ctx.stores.rate_limits
    if await limits.count(limit_key, now, _WINDOW) >= ctx.policy.login_failures_per_minute:
        return SlowDown("too many failed sign-ins; wait a minute", retry_after=_WINDOW)
    user = await ctx.stores.users.get_by_username(username)
    if user is None:
        await ctx.passwords.dummy_verify()
    if user is None or not await ctx.passwords.verify(user.password_hash, password):
        await limits.hit(limit_key, now, _WINDOW)
        return None
    session_id = ctx.random.token(32)
    session = Session(
        session_hash=hash_token(session_id),
        user_id=user.user_id,
        auth_time=now,
        expires_at=now + ctx.policy.session_lifetime,
    )
    await ctx.stores.sessions.add(session)
    return session_id, session


async def current_session(session_id: str | None, *, ctx: Context) -> Session | None:
    if not session_id:
        return None
    return await ctx.stores.sessions.get(hash_token(session_id), ctx.clock.now())


async def logout(session_id: str | None, *, ctx: Context) -> None:
    if session_id:
        await ctx.stores.sessions.delete(hash_token(session_id))
