"""The storage the core needs, as small Protocols that speak core records.

Invariants every adapter keeps (tests in ``tests/storage`` pin them on SQLite and PostgreSQL):

* ``CodeStore.consume`` is atomic: of any number of concurrent calls for one code, at most one
  returns the code; it never returns an expired or already-consumed code.
* Nothing secret is stored in the clear: stores receive and look up hashes only.
* ``list``-style methods are bounded by the caller's needs, never a full scan on a hot path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from tokenpath.core.records import (
    AccessTokenRecord,
    AuthorizationCode,
    Client,
    Grant,
    RefreshTokenRecord,
    Session,
    SigningKey,
    User,
)

__all__ = [
    "ClientStore",
    "CodeStore",
    "ConsentStore",
    "GrantStore",
    "KeyStore",
    "PasswordHasher",
    "RateLimiter",
    "RefreshTokenStore",
    "ReplayCache",
    "SessionStore",
    "Stores",
    "TokenStore",
    "UserStore",
]


class ClientStore(Protocol):
    async def get(self, client_id: str) -> Client | None: ...
    async def add(self, client: Client) -> None: ...
    async def update(self, client: Client) -> None: ...
    async def list(self) -> Sequence[Client]: ...


class UserStore(Protocol):
    async def get(self, user_id: str) -> User | None: ...
    async def get_by_username(self, username: str) -> User | None: ...
    async def add(self, user: User) -> None: ...
    async def set_password_hash(self, user_id: str, password_hash: str) -> None: ...


class GrantStore(Protocol):
    async def add(self, grant: Grant) -> None: ...
    async def get(self, grant_id: str) -> Grant | None: ...
    async def revoke(self, grant_id: str, now: int) -> None:
        """Mark revoked (idempotent; keeps the first revocation time)."""
        ...


class CodeStore(Protocol):
    async def add(self, code: AuthorizationCode) -> None: ...
    async def get(self, code_hash: str) -> AuthorizationCode | None: ...
    async def consume(self, code_hash: str, now: int) -> AuthorizationCode | None:
        """Atomically mark the code used; return it only if this call did so and it is unexpired."""
        ...


class TokenStore(Protocol):
    """Opaque access tokens, and the revoked JWT ones (a JWT is otherwise never stored)."""

    async def add(self, token: AccessTokenRecord) -> None: ...
    async def get(self, jti: str) -> AccessTokenRecord | None: ...
    async def get_by_hash(self, token_hash: str) -> AccessTokenRecord | None:
        """Opaque access tokens only (records whose ``token_hash`` is set)."""
        ...

    async def revoke(self, token: AccessTokenRecord, now: int) -> None:
        """Mark revoked, storing the record first if it was not (idempotent; first time kept)."""
        ...


class RefreshTokenStore(Protocol):
    async def add(self, token: RefreshTokenRecord) -> None: ...
    async def get(self, token_hash: str) -> RefreshTokenRecord | None: ...
    async def use(self, token_hash: str, now: int) -> RefreshTokenRecord | None:
        """Atomically mark used; return it only if this call did so (unused, unrevoked, unexpired).

        Expired means ``now >= expires_at`` or ``now >= idle_expires_at``.
        """
        ...


class ReplayCache(Protocol):
    async def first_use(self, key: str, expires_at: int, now: int) -> bool:
        """Remember ``key`` until ``expires_at``; True only the first time (atomic, shared)."""
        ...


class RateLimiter(Protocol):
    """Fixed-window counters (bucket = ``now // window``), shared by every worker."""

    async def hit(self, key: str, now: int, window: int) -> int:
        """Count one event for ``key`` in the current bucket; the bucket's new count (atomic)."""
        ...

    async def count(self, key: str, now: int, window: int) -> int:
        """Events counted for ``key`` in the current bucket."""
        ...


class ConsentStore(Protocol):
    async def get(self, user_id: str, client_id: str) -> frozenset[str]:
        """The scopes this user has already approved for this client (empty if none)."""
        ...

    async def add(self, user_id: str, client_id: str, scopes: frozenset[str], now: int) -> None:
        """Remember approval of ``scopes`` (merged with what was approved before)."""
        ...


class SessionStore(Protocol):
    async def add(self, session: Session) -> None: ...
    async def get(self, session_hash: str, now: int) -> Session | None:
        """The live session with this hash, or None when unknown or expired."""
        ...

    async def delete(self, session_hash: str) -> None: ...


class KeyStore(Protocol):
    async def add(self, key: SigningKey) -> None: ...
    async def list_active(self) -> Sequence[SigningKey]:
        """Keys not retired, newest first (the first one signs)."""
        ...

    async def retire(self, kid: str, now: int) -> None:
        """Stop publishing ``kid``; tokens it signed stop validating (idempotent)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Stores:
    """Everything the core persists, bundled so one value wires a server."""

    clients: ClientStore
    users: UserStore
    grants: GrantStore
    codes: CodeStore
    tokens: TokenStore
    refresh_tokens: RefreshTokenStore
    consents: ConsentStore
    sessions: SessionStore
    keys: KeyStore
    replay: ReplayCache
    rate_limits: RateLimiter


class PasswordHasher(Protocol):
    """Slow, salted password hashing (argon2id in production; see ``storage/passwords.py``).

    Async because a verification costs tens of milliseconds of CPU: implementations run it off
    the event loop, so one sign-in does not stall every other request of the process.
    """

    async def hash(self, password: str) -> str: ...
    async def verify(self, password_hash: str, password: str) -> bool:
        """True iff ``password`` matches; never raises on a malformed hash."""
        ...

    async def dummy_verify(self) -> None:
        """Spend the time of one verification, so unknown users answer as slowly as known ones."""
        ...
