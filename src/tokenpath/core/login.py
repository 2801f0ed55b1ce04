"""Signing a user in at the authorization server, and the browser session that results.

Online guessing is bounded before any password is checked (OAuth 2.1 §7.7, RFC 6749 §10.10,
catalog A20). In order:

1. Inputs are capped (user name :data:`MAX_USERNAME`, password :data:`MAX_PASSWORD`): an
   over-long name is treated as unknown, never looked up or stored.
2. One token is *reserved* from the account's bucket and one from the source address's bucket
   (``RateLimiter.reserve``, atomic): N concurrent guesses for one account cause at most the
   bucket's size in password checks, in one process or many. A refused reservation is
   :class:`SlowDown` with the seconds to wait; after the limit the wait doubles per attempt up to
   15 minutes (back-off, not lock-out: the owner waits at most that long).
3. Unknown user names draw from one of :data:`UNKNOWN_SHARDS` shared buckets chosen by a hash
   of the name, so a stream of invented names cannot open a fresh bucket each (the table stays
   bounded), yet one unknown name is throttled like one account: with a single shared bucket, a
   drained bucket would answer 429 to every unknown name while a real account still answered
   400 — an oracle for which names exist. They cost one dummy verification, so the answer and
   its timing are those of a wrong password.
4. The password check is admitted to a bounded hashing queue; when it is full the answer is
   :class:`SignInBusy` at once and both reservations are given back (nothing was checked).
5. A wrong password keeps its reservations (they are the failure count). A right one resets the
   account's bucket and gives the address its token back.
6. A disabled user (``tokenpath user disable``) is refused like a wrong password, after the same
   work; the user is read again after the check, so a disable that lands meanwhile still counts.
7. A right password whose hash was made with older argon2 parameters is hashed again and stored
   (``PasswordHasher.needs_rehash``): raising the parameters reaches each user at their next
   sign-in, with no reset.

The cookie carries a 256-bit random session id; the store keeps only its SHA-256, so a leaked
database does not yield live sessions.
"""

from __future__ import annotations

from tokenpath.core.clock import hash_token
from tokenpath.core.context import Context
from tokenpath.core.errors import SlowDown, TemporarilyUnavailable
from tokenpath.core.events import Event, EventName, Outcome, hash_username
from tokenpath.core.ports import Limit
from tokenpath.core.records import Session

__all__ = [
    "ADDRESS_ATTEMPTS_PER_MINUTE",
    "BACKOFF_CAP",
    "MAX_PASSWORD",
    "MAX_USERNAME",
    "UNKNOWN_SHARDS",
    "SignInBusy",
    "current_session",
    "login",
    "logout",
]

MAX_USERNAME = 255
MAX_PASSWORD = 1024
"""Longer passwords are refused before hashing, so argon2 is never fed megabytes."""
ADDRESS_ATTEMPTS_PER_MINUTE = 30
"""Sign-in attempts per source address and minute (successful ones are given back)."""
BACKOFF_CAP = 15 * 60
"""The longest back-off delay once a bucket is empty: nobody is locked out for longer."""
UNKNOWN_SHARDS = 4096
"""Buckets shared by unknown user names (no user id can contain ``?``, so none collides)."""


class SignInBusy(TemporarilyUnavailable):
    """Every password-check slot is taken: 503 with ``Retry-After``; nothing was checked."""

    def __init__(self, retry_after: int = 1) -> None:
        super().__init__("the server is busy; try again in a moment")
        self.retry_after = retry_after


async def login(
    username: str, password: str, *, ctx: Context, address: str | None = None
) -> tuple[str, Session] | SlowDown | SignInBusy | None:
    """The raw session id (for the cookie) and the stored session; None for bad credentials.

    ``address`` is the client's network address as the web layer established it (None when
    unknown: only the account bucket applies then).
    """
    now = ctx.clock.now()
    fits = 0 < len(username) <= MAX_USERNAME and len(password) <= MAX_PASSWORD
    user = await ctx.stores.users.get_by_username(username) if fits else None
    account = f"login:account:{user.user_id}" if user else _unknown_bucket(username)
    buckets = [(account, ctx.policy.login_failures_per_minute)]
    if address is not None:
        buckets.insert(0, (f"login:address:{address}", ADDRESS_ATTEMPTS_PER_MINUTE))

    def report(name: EventName, outcome: Outcome) -> None:
        ctx.events.emit(
            Event(
                name=name,
                outcome=outcome,
                user_id=user.user_id if user else None,
                username_hash=None if user else hash_username(username[:MAX_USERNAME]),
                source=address,
            )
        )

    refused = await _reserve(buckets, now, ctx)
    if refused is not None:
        report(EventName.LOGIN_THROTTLED, "throttled")
        return refused
    try:
        if user is None:
            await ctx.passwords.dummy_verify()
            report(EventName.LOGIN_FAILED, "refused")
            return None
        if not await ctx.passwords.verify(user.password_hash, password):
            report(EventName.LOGIN_FAILED, "refused")
            return None
    except TemporarilyUnavailable:
        await _release(buckets, now, ctx)
        report(EventName.LOGIN_BUSY, "throttled")
        return SignInBusy()
    current = await ctx.stores.users.get(user.user_id)
    if current is None or current.disabled_at is not None:
        report(EventName.LOGIN_FAILED, "refused")
        return None
    await ctx.stores.rate_limits.reset(account)
    await _release(buckets[:-1], now, ctx)  # the address's token, if any
    if current.password_hash == user.password_hash:  # not changed while we checked it
        await _upgrade_hash(current.user_id, current.password_hash, password, ctx)
    session_id = ctx.random.token(32)
    session = Session(
        session_hash=hash_token(session_id),
        user_id=user.user_id,
        auth_time=now,
        expires_at=now + ctx.policy.session_lifetime,
        sid=ctx.random.token(16),
    )
    await ctx.stores.sessions.add(session)
    return session_id, session


async def _upgrade_hash(user_id: str, password_hash: str, password: str, ctx: Context) -> None:
    """Store a hash with the current parameters (rule 7); a busy hasher leaves it for next time."""
    if not ctx.passwords.needs_rehash(password_hash):
        return
    try:
        await ctx.stores.users.set_password_hash(user_id, await ctx.passwords.hash(password))
    except TemporarilyUnavailable:
        return


def _unknown_bucket(username: str) -> str:
    shard = int(hash_token(username.casefold()[:MAX_USERNAME])[:8], 16) % UNKNOWN_SHARDS
    return f"login:account:?unknown:{shard}"


def _limit(per_minute: int) -> Limit:
    return Limit(per_window=per_minute, window=60, backoff_cap=BACKOFF_CAP)


async def _reserve(buckets: list[tuple[str, int]], now: int, ctx: Context) -> SlowDown | None:
    """Take a token from every bucket, or none: a refusal gives back what was taken."""
    limits = ctx.stores.rate_limits
    for taken, (key, per_minute) in enumerate(buckets):
        reservation = await limits.reserve(key, now, _limit(per_minute))
        if not reservation.granted:
            await _release(buckets[:taken], now, ctx)
            return SlowDown("too many failed sign-ins", retry_after=reservation.retry_after)
    return None


async def _release(buckets: list[tuple[str, int]], now: int, ctx: Context) -> None:
    for key, per_minute in buckets:
        await ctx.stores.rate_limits.release(key, now, _limit(per_minute))


async def current_session(session_id: str | None, *, ctx: Context) -> Session | None:
    if not session_id:
        return None
    return await ctx.stores.sessions.get(hash_token(session_id), ctx.clock.now())


async def logout(session_id: str | None, *, ctx: Context) -> None:
    if session_id:
        await ctx.stores.sessions.delete(hash_token(session_id))
