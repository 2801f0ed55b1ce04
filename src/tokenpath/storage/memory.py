"""Dict-backed reference implementation of every core port, for fast core tests.

Single-process only by nature, so it is never used by ``serve`` or ``demo``; it exists to pin
the port contracts in their simplest form. ``consume`` is atomic because asyncio runs one
coroutine at a time and the method does not await between its check and its write; so is each
operator's change that spans stores (``_Cascades``), for the same reason.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from typing import Any

from tokenpath.core.ports import GrantSelector, Limit, Reservation, RevokedCount, Stores
from tokenpath.core.records import (
    AccessTokenRecord,
    AdminToken,
    Api,
    AuthorizationCode,
    Client,
    Grant,
    InitialAccessToken,
    PushedRequest,
    RefreshTokenRecord,
    RevocationEvent,
    Session,
    SigningKey,
    User,
)

__all__ = [
    "Bucket",
    "MemoryApiStore",
    "limit_key",
    "memory_stores",
    "reserve_bucket",
    "retry_after",
]


class _Cascades:
    """The other stores an operator's change reaches; :func:`memory_stores` shares one between
    the client, user and grant stores, and a store made alone gets empty ones of its own."""

    def __init__(self, grants: MemoryGrantStore | None = None) -> None:
        self.sessions = MemorySessionStore()
        self.consents = MemoryConsentStore()
        self.codes = MemoryCodeStore()
        self.tokens = MemoryTokenStore()
        self.refresh_tokens = MemoryRefreshTokenStore()
        self.grants = grants or MemoryGrantStore(self)

    def __deepcopy__(self, memo: dict[int, object]) -> _Cascades:
        """Links, not state: a copy of a store (a test's snapshot) shares them."""
        return self

    def end_sessions(self, user_id: str) -> int:
        ended = [k for k, s in self.sessions.rows.items() if s.user_id == user_id]
        for key in ended:
            del self.sessions.rows[key]
        return len(ended)

    @staticmethod
    def drop(rows: dict[str, Any], **match: str) -> None:
        for key in [k for k, r in rows.items() if _matches(r, match)]:
            del rows[key]

    @staticmethod
    def revoke(rows: dict[str, Any], now: int, **match: str) -> int:
        live = [k for k, r in rows.items() if _matches(r, match) and r.revoked_at is None]
        for key in live:
            rows[key] = dataclasses.replace(rows[key], revoked_at=now)
        return len(live)

    def drop_consents(self, position: int, value: str) -> None:
        for key in [k for k in self.consents.rows if k[position] == value]:
            del self.consents.rows[key]


def _matches(record: object, match: dict[str, str]) -> bool:
    return all(getattr(record, name) == value for name, value in match.items())


class MemoryClientStore:
    def __init__(self) -> None:
        self.rows: dict[str, Client] = {}
        self.cascades = _Cascades()

    async def get(self, client_id: str) -> Client | None:
        return self.rows.get(client_id)

    async def add(self, client: Client) -> None:
        if client.client_id in self.rows:
            raise KeyError(client.client_id)
        self.rows[client.client_id] = client

    async def update(self, client: Client) -> None:
        self.rows[client.client_id] = client

    async def list(self) -> Sequence[Client]:
        return sorted(self.rows.values(), key=lambda c: (c.created_at, c.client_id))

    async def delete(self, client_id: str) -> bool:
        c = self.cascades
        for rows in (c.codes.rows, c.refresh_tokens.rows, c.tokens.rows, c.grants.rows):
            c.drop(rows, client_id=client_id)
        c.drop_consents(1, client_id)
        return self.rows.pop(client_id, None) is not None

    async def set_disabled(self, client_id: str, disabled_at: int | None) -> bool:
        client = self.rows.get(client_id)
        if client is None:
            return False
        if disabled_at is None or client.disabled_at is None:
            self.rows[client_id] = dataclasses.replace(client, disabled_at=disabled_at)
        return True

    async def rotate_secret(
        self, client_id: str, secret_hash: str, previous_until: int | None
    ) -> bool:
        client = self.rows.get(client_id)
        if client is None:
            return False
        self.rows[client_id] = dataclasses.replace(
            client,
            secret_hash=secret_hash,
            previous_secret_hash=client.secret_hash if previous_until is not None else None,
            previous_secret_expires_at=previous_until,
        )
        return True


class MemoryUserStore:
    def __init__(self) -> None:
        self.rows: dict[str, User] = {}
        self.cascades = _Cascades()

    async def get(self, user_id: str) -> User | None:
        return self.rows.get(user_id)

    async def get_by_username(self, username: str) -> User | None:
        return next((u for u in self.rows.values() if u.username == username), None)

    async def add(self, user: User) -> None:
        if await self.get_by_username(user.username) is not None:
            raise KeyError(user.username)
        self.rows[user.user_id] = user

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        self.rows[user_id] = dataclasses.replace(self.rows[user_id], password_hash=password_hash)

    async def set_claims(self, user_id: str, claims: str) -> None:
        if user_id in self.rows:
            self.rows[user_id] = dataclasses.replace(self.rows[user_id], claims=claims)

    async def list(self, limit: int) -> Sequence[User]:
        return sorted(self.rows.values(), key=lambda u: u.username)[:limit]

    async def set_disabled(self, user_id: str, disabled_at: int | None) -> bool:
        user = self.rows.get(user_id)
        if user is None:
            return False
        if disabled_at is None or user.disabled_at is None:
            self.rows[user_id] = dataclasses.replace(user, disabled_at=disabled_at)
        if disabled_at is not None:
            self.cascades.end_sessions(user_id)
        return True

    async def delete(self, user_id: str, now: int) -> bool:
        c = self.cascades
        c.end_sessions(user_id)
        c.drop(c.codes.rows, user_id=user_id)
        c.drop_consents(0, user_id)
        c.revoke(c.refresh_tokens.rows, now, user_id=user_id)
        c.revoke(c.grants.rows, now, user_id=user_id)
        return self.rows.pop(user_id, None) is not None


class MemoryGrantStore:
    def __init__(self, cascades: _Cascades | None = None) -> None:
        self.rows: dict[str, Grant] = {}
        self.cascades = cascades or _Cascades(self)

    async def add(self, grant: Grant) -> None:
        self.rows[grant.grant_id] = grant

    async def get(self, grant_id: str) -> Grant | None:
        return self.rows.get(grant_id)

    async def revoke(self, grant_id: str, now: int) -> None:
        grant = self.rows.get(grant_id)
        if grant is not None and grant.revoked_at is None:
            self.rows[grant_id] = dataclasses.replace(grant, revoked_at=now)

    async def list_by_sid(self, sid: str) -> Sequence[Grant]:
        return [grant for grant in self.rows.values() if sid and grant.sid == sid]

    async def list_for(
        self, *, user_id: str | None = None, client_id: str | None = None, limit: int
    ) -> Sequence[Grant]:
        match = {"user_id": user_id} if user_id is not None else {"client_id": client_id or ""}
        chosen = [g for g in self.rows.values() if _matches(g, match)]
        return sorted(chosen, key=lambda g: (-g.created_at, g.grant_id))[:limit]

    async def revoke_for(self, selector: GrantSelector, now: int) -> RevokedCount:
        match = {
            name: value
            for name, value in (
                ("grant_id", selector.grant_id),
                ("user_id", selector.user_id),
                ("client_id", selector.client_id),
            )
            if value is not None
        }
        chosen = {g.grant_id for g in self.rows.values() if _matches(g, match)}
        c = self.cascades
        revoked = c.revoke(self.rows, now, **match)
        for grant_id in chosen:
            c.revoke(c.refresh_tokens.rows, now, grant_id=grant_id)
        codes = c.codes.rows
        for key in [k for k, v in codes.items() if v.grant_id in chosen and v.consumed_at is None]:
            del codes[key]
        sessions = 0
        if selector.user_id is not None:
            sessions = c.end_sessions(selector.user_id)
        return RevokedCount(grants=revoked, sessions=sessions)

    async def list_live_by_client(self, client_id: str, limit: int) -> Sequence[Grant]:
        live = [g for g in self.rows.values() if g.client_id == client_id and g.revoked_at is None]
        return live[:limit]


class MemoryCodeStore:
    def __init__(self) -> None:
        self.rows: dict[str, AuthorizationCode] = {}

    async def add(self, code: AuthorizationCode) -> None:
        self.rows[code.code_hash] = code

    async def get(self, code_hash: str) -> AuthorizationCode | None:
        return self.rows.get(code_hash)

    async def consume(self, code_hash: str, now: int) -> AuthorizationCode | None:
        code = self.rows.get(code_hash)
        if code is None or code.consumed_at is not None or code.expires_at <= now:
            return None
        self.rows[code_hash] = used = dataclasses.replace(code, consumed_at=now)
        return used


class MemoryTokenStore:
    def __init__(self) -> None:
        self.rows: dict[str, AccessTokenRecord] = {}

    async def add(self, token: AccessTokenRecord) -> None:
        self.rows[token.jti] = token

    async def get(self, jti: str) -> AccessTokenRecord | None:
        return self.rows.get(jti)

    async def get_by_hash(self, token_hash: str) -> AccessTokenRecord | None:
        return next((t for t in self.rows.values() if t.token_hash == token_hash), None)

    async def revoke(self, token: AccessTokenRecord, now: int) -> None:
        stored = self.rows.get(token.jti, token)
        if stored.revoked_at is None:
            self.rows[token.jti] = dataclasses.replace(stored, revoked_at=now)


class MemoryRefreshTokenStore:
    def __init__(self) -> None:
        self.rows: dict[str, RefreshTokenRecord] = {}

    async def add(self, token: RefreshTokenRecord) -> None:
        self.rows[token.token_hash] = token

    async def get(self, token_hash: str) -> RefreshTokenRecord | None:
        return self.rows.get(token_hash)

    async def use(self, token_hash: str, now: int) -> RefreshTokenRecord | None:
        token = self.rows.get(token_hash)
        if (
            token is None
            or token.used_at is not None
            or token.revoked_at is not None
            or now >= token.expires_at
            or now >= token.idle_expires_at
        ):
            return None
        self.rows[token_hash] = used = dataclasses.replace(token, used_at=now)
        return used


class MemoryReplayCache:
    def __init__(self) -> None:
        self.rows: dict[str, int] = {}

    async def first_use(self, key: str, expires_at: int, now: int) -> bool:
        if self.rows.get(key, 0) > now:
            return False
        self.rows[key] = expires_at
        return True


@dataclasses.dataclass(frozen=True, slots=True)
class Bucket:
    """One rate-limit row: times in milliseconds, ``expires_at`` in seconds (as in SQL)."""

    tat: int
    not_before: int
    backoff: int
    expires_at: int


BACKOFF_START_MS = 1000
"""The first back-off delay; each later grant doubles it up to ``Limit.backoff_cap``."""


def reserve_bucket(old: Bucket | None, now: int, limit: Limit) -> tuple[Bucket, bool]:
    """The reference arithmetic of ``RateLimiter.reserve`` (``sql/limits.py`` mirrors it).

    GCRA (the token bucket as one "theoretical arrival time" ``tat``): granted when the bucket
    has a token (``max(tat, now) + period <= now + burst``) and the back-off has passed. The
    grant that takes the last token starts the back-off (``backoff`` > 0); from then on every
    grant doubles it, even if the bucket refilled while the caller waited, until the key is
    reset or forgotten. Otherwise a patient guesser would get a full burst after each delay.
    """
    now_ms = now * 1000
    period, burst, cap = limit.period_ms, limit.burst_ms, limit.backoff_cap * 1000
    if old is None or old.expires_at <= now:
        old = Bucket(tat=now_ms, not_before=0, backoff=0, expires_at=0)
    base = max(old.tat, now_ms)
    granted = now_ms >= old.not_before and base + period <= now_ms + burst
    new = dataclasses.replace(old, expires_at=limit.expires_at(now))
    if granted:
        new = dataclasses.replace(new, tat=base + period)
        if old.backoff > 0 or base + period > now_ms + burst - period:
            delay = min(old.backoff * 2 if old.backoff else BACKOFF_START_MS, cap)
            new = dataclasses.replace(new, not_before=now_ms + delay, backoff=delay)
    return new, granted


def retry_after(bucket: Bucket, now: int, limit: Limit) -> int:
    """Whole seconds until ``bucket`` grants again (at least 1)."""
    ready = max(bucket.not_before, bucket.tat + limit.period_ms - limit.burst_ms)
    return max(1, -(-(ready - now * 1000) // 1000))


def limit_key(key: str) -> str:
    """Rate-limit keys are stored as SHA-256 hex: fixed length whatever the caller sends."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class MemoryRateLimiter:
    """Atomic because nothing awaits between reading a bucket and writing it back."""

    def __init__(self) -> None:
        self.rows: dict[str, Bucket] = {}

    async def reserve(self, key: str, now: int, limit: Limit) -> Reservation:
        digest = limit_key(key)
        bucket, granted = reserve_bucket(self.rows.get(digest), now, limit)
        self.rows[digest] = bucket
        return Reservation(True) if granted else Reservation(False, retry_after(bucket, now, limit))

    async def release(self, key: str, now: int, limit: Limit) -> None:
        digest = limit_key(key)
        bucket = self.rows.get(digest)
        if bucket is not None and bucket.expires_at > now:
            self.rows[digest] = dataclasses.replace(bucket, tat=bucket.tat - limit.period_ms)

    async def reset(self, key: str) -> None:
        self.rows.pop(limit_key(key), None)


class MemoryConsentStore:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], frozenset[str]] = {}

    async def get(self, user_id: str, client_id: str) -> frozenset[str]:
        return self.rows.get((user_id, client_id), frozenset())

    async def add(self, user_id: str, client_id: str, scopes: frozenset[str], now: int) -> None:
        key = (user_id, client_id)
        self.rows[key] = self.rows.get(key, frozenset()) | scopes


class MemorySessionStore:
    def __init__(self) -> None:
        self.rows: dict[str, Session] = {}

    async def add(self, session: Session) -> None:
        self.rows[session.session_hash] = session

    async def get(self, session_hash: str, now: int) -> Session | None:
        session = self.rows.get(session_hash)
        return session if session is not None and session.expires_at > now else None

    async def delete(self, session_hash: str) -> None:
        self.rows.pop(session_hash, None)


class MemoryKeyStore:
    def __init__(self) -> None:
        self.rows: dict[str, SigningKey] = {}

    async def add(self, key: SigningKey) -> None:
        self.rows[key.kid] = key

    async def list_active(self) -> Sequence[SigningKey]:
        active = [k for k in self.rows.values() if k.retired_at is None]
        return sorted(active, key=lambda k: (k.created_at, k.kid), reverse=True)

    async def retire(self, kid: str, now: int) -> None:
        key = self.rows.get(kid)
        if key is not None and key.retired_at is None:
            self.rows[kid] = dataclasses.replace(key, retired_at=now)


class MemoryInitialAccessTokenStore:
    """Atomic because nothing awaits between reading a token and writing its count back."""

    def __init__(self) -> None:
        self.rows: dict[str, InitialAccessToken] = {}

    async def add(self, token: InitialAccessToken) -> None:
        self.rows[token.token_hash] = token

    async def get(self, token_hash: str, now: int) -> InitialAccessToken | None:
        token = self.rows.get(token_hash)
        if token is None or (token.expires_at is not None and token.expires_at <= now):
            return None
        return None if token.uses_left is not None and token.uses_left <= 0 else token

    async def use(self, token_hash: str, now: int) -> bool:
        token = await self.get(token_hash, now)
        if token is None:
            return False
        if token.uses_left is not None:
            left = token.uses_left - 1
            self.rows[token_hash] = dataclasses.replace(token, uses_left=left)
        return True


class MemoryPushedRequestStore:
    def __init__(self) -> None:
        self.rows: dict[str, PushedRequest] = {}

    async def add(self, request: PushedRequest) -> None:
        self.rows[request.uri_hash] = request

    async def consume(self, uri_hash: str, client_id: str, now: int) -> PushedRequest | None:
        row = self.rows.get(uri_hash)
        if row is None or row.used_at is not None or row.client_id != client_id:
            return None
        if row.expires_at <= now:
            return None
        self.rows[uri_hash] = used = dataclasses.replace(row, used_at=now)
        return used


class MemoryAdminTokenStore:
    def __init__(self) -> None:
        self.rows: dict[str, AdminToken] = {}

    async def add(self, token: AdminToken) -> None:
        self.rows[token.token_id] = token

    async def get(self, token_hash: str, now: int) -> AdminToken | None:
        token = next((t for t in self.rows.values() if t.token_hash == token_hash), None)
        if token is None or token.revoked_at is not None:
            return None
        return None if token.expires_at is not None and token.expires_at <= now else token

    async def list(self) -> Sequence[AdminToken]:
        return sorted(self.rows.values(), key=lambda t: (t.created_at, t.token_id))

    async def revoke(self, token_id: str, now: int) -> bool:
        token = self.rows.get(token_id)
        if token is not None and token.revoked_at is None:
            self.rows[token_id] = dataclasses.replace(token, revoked_at=now)
        return token is not None


class MemoryApiStore:
    def __init__(self) -> None:
        self.rows: dict[str, Api] = {}

    async def get(self, identifier: str) -> Api | None:
        return self.rows.get(identifier)

    async def get_by_client(self, client_id: str) -> Api | None:
        return next((api for api in self.rows.values() if api.client_id == client_id), None)

    async def add(self, api: Api) -> None:
        if api.identifier in self.rows:
            raise KeyError(api.identifier)
        self.rows[api.identifier] = api

    async def update(self, api: Api) -> None:
        self.rows[api.identifier] = api

    async def list(self) -> Sequence[Api]:
        return sorted(self.rows.values(), key=lambda a: (a.created_at, a.identifier))

    async def delete(self, identifier: str) -> None:
        self.rows.pop(identifier, None)


class MemoryRevocationFeedStore:
    def __init__(self) -> None:
        self.rows: list[RevocationEvent] = []

    async def add(self, events: Sequence[RevocationEvent]) -> None:
        for event in events:
            stored = dataclasses.replace(event, event_id=len(self.rows) + 1)
            self.rows.append(stored)

    async def since(
        self, audience: str, after: int, now: int, limit: int, settled: int
    ) -> tuple[Sequence[RevocationEvent], int]:
        newer = self.rows[after:]
        page = [e for e in newer if e.audience == audience and e.expires_at > now][:limit]
        high = max((e.event_id for e in newer if e.created_at < settled), default=after)
        if len(page) == limit:
            high = min(high, page[-1].event_id)
        return page, max(high, after)


def memory_stores() -> Stores:
    """Every store, with the cascades of operators' changes wired to the others."""
    cascades = _Cascades()
    clients, users = MemoryClientStore(), MemoryUserStore()
    clients.cascades = users.cascades = cascades
    return Stores(
        clients=clients,
        users=users,
        grants=cascades.grants,
        codes=cascades.codes,
        tokens=cascades.tokens,
        refresh_tokens=cascades.refresh_tokens,
        consents=cascades.consents,
        sessions=cascades.sessions,
        keys=MemoryKeyStore(),
        replay=MemoryReplayCache(),
        rate_limits=MemoryRateLimiter(),
        initial_access_tokens=MemoryInitialAccessTokenStore(),
        pushed_requests=MemoryPushedRequestStore(),
        admin_tokens=MemoryAdminTokenStore(),
        apis=MemoryApiStore(),
        revocation_feed=MemoryRevocationFeedStore(),
    )
