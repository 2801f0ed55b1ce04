"""The storage the core needs, as small Protocols that speak core records.

Invariants every adapter keeps (tests in ``tests/storage`` pin them on SQLite and PostgreSQL):

* ``CodeStore.consume`` is atomic: of any number of concurrent calls for one code, at most one
  returns the code; it never returns an expired or already-consumed code.
* Nothing secret is stored in the clear: stores receive and look up hashes only.
* ``list``-style methods are bounded by the caller's needs, never a full scan on a hot path.
* ``RateLimiter.reserve`` is atomic, so a limit holds under any concurrency (see its class).
* ``InitialAccessTokenStore.use`` is atomic: a token with ``n`` uses left admits at most ``n``
  registrations, however many arrive at once.
* ``PushedRequestStore.consume`` is atomic like ``CodeStore.consume``: a ``request_uri`` is
  taken at most once, only by its own client, and never after it expired (RFC 9126 §4).
* An operator's change that spans rows (deleting a client or a user, revoking grants, disabling
  a user) is one transaction: it happens entirely or not at all, and two changes at once leave
  the state one of them in either order would (``core/lifecycle``).
* ``RevocationFeedStore`` ids only grow: an entry stored after a cursor was handed out has a
  larger id, so a reader that resumes from its cursor sees it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

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
    "AdminTokenStore",
    "ApiStore",
    "ClientStore",
    "CodeStore",
    "ConsentStore",
    "GrantSelector",
    "GrantStore",
    "InitialAccessTokenStore",
    "KeySetSource",
    "KeyStore",
    "Limit",
    "PasswordHasher",
    "PushedRequestStore",
    "RateLimiter",
    "RefreshTokenStore",
    "ReplayCache",
    "Reservation",
    "RevocationFeedStore",
    "RevokedCount",
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
    async def delete(self, client_id: str) -> bool:
        """Forget the client with its grants, codes, tokens and consents, in one transaction
        (RFC 7592 §2.3); True if it existed (deleting again is harmless)."""
        ...

    async def set_disabled(self, client_id: str, disabled_at: int | None) -> bool:
        """Disable (keeping the first time) or, with None, enable; True if the client exists."""
        ...

    async def rotate_secret(
        self, client_id: str, secret_hash: str, previous_until: int | None
    ) -> bool:
        """Replace the secret in one statement; the replaced one stays accepted until
        ``previous_until`` (None: not at all). True if the client exists."""
        ...


class ApiStore(Protocol):
    """Registered resource servers (``core/apis.py``), by identifier and by credentials."""

    async def get(self, identifier: str) -> Api | None: ...
    async def get_by_client(self, client_id: str) -> Api | None:
        """The API whose introspection credentials are the client ``client_id``."""
        ...

    async def add(self, api: Api) -> None: ...
    async def update(self, api: Api) -> None: ...
    async def list(self) -> Sequence[Api]: ...
    async def delete(self, identifier: str) -> None:
        """Forget the API (idempotent); its tokens introspect inactive from then on."""
        ...


class RevocationFeedStore(Protocol):
    """The revocation feed's entries (``core/revocation_feed.py``), shared by every process."""

    async def add(self, events: Sequence[RevocationEvent]) -> None:
        """Store the entries, each with a new, larger ``event_id``."""
        ...

    async def since(
        self, audience: str, after: int, now: int, limit: int, settled: int
    ) -> tuple[Sequence[RevocationEvent], int]:
        """Live entries (``expires_at > now``) for ``audience`` with an id above ``after``,
        oldest first, at most ``limit``; and the cursor to resume from: never below ``after``,
        never past an entry created at or after ``settled`` (one whose write may still be in
        flight, so a smaller id could yet appear), nor past the page's last entry when the page
        is full. Entries above the cursor come again in the next answer."""
        ...


class UserStore(Protocol):
    async def get(self, user_id: str) -> User | None: ...
    async def get_by_username(self, username: str) -> User | None: ...
    async def add(self, user: User) -> None: ...
    async def set_password_hash(self, user_id: str, password_hash: str) -> None: ...
    async def set_claims(self, user_id: str, claims: str) -> None:
        """Replace the user's claims (``User.claims``: JSON text the core has validated)."""
        ...

    async def list(self, limit: int) -> Sequence[User]:
        """Users by name, at most ``limit``."""
        ...

    async def set_disabled(self, user_id: str, disabled_at: int | None) -> bool:
        """Disable (keeping the first time; the user's sessions end in the same transaction)
        or, with None, enable; True if the user exists."""
        ...

    async def delete(self, user_id: str, now: int) -> bool:
        """Forget the user, their sessions and consents, and revoke their grants (so codes,
        tokens and refresh tokens die), in one transaction; True if the user existed."""
        ...


class GrantStore(Protocol):
    async def add(self, grant: Grant) -> None: ...
    async def get(self, grant_id: str) -> Grant | None: ...
    async def revoke(self, grant_id: str, now: int) -> None:
        """Mark revoked (idempotent; keeps the first revocation time)."""
        ...

    async def list_by_sid(self, sid: str) -> Sequence[Grant]:
        """Every grant given in the browser session ``sid`` (Back-Channel Logout 1.0 §2.5)."""
        ...

    async def list_for(
        self, *, user_id: str | None = None, client_id: str | None = None, limit: int
    ) -> Sequence[Grant]:
        """The grants of a user or of a client (one of them), newest first, at most ``limit``."""
        ...

    async def revoke_for(self, selector: GrantSelector, now: int) -> RevokedCount:
        """In one transaction: revoke the selected unrevoked grants and their refresh tokens,
        delete their unredeemed codes, and (selecting a user) end the user's sessions."""
        ...

    async def list_live_by_client(self, client_id: str, limit: int) -> Sequence[Grant]:
        """Up to ``limit`` unrevoked grants of the client (to revoke them when it goes)."""
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Limit:
    """A token bucket of ``per_window`` attempts refilled over ``window`` seconds, with back-off.

    A full bucket admits ``per_window`` attempts at once; a token comes back every
    ``window / per_window`` seconds (no doubled burst at a window edge, as fixed windows allow).
    Each attempt that empties the bucket also closes it for a back-off delay that doubles
    (1, 2, 4 ... s) up to ``backoff_cap``: sustained guessing slows to one try per cap, yet
    nobody can lock an account for longer than that. State is forgotten ``memory`` seconds
    after the bucket refills and the cap has passed with no attempt.
    """

    per_window: int
    window: int = 60
    backoff_cap: int = 900
    memory: int = 3600

    @property
    def period_ms(self) -> int:
        """Milliseconds for one token to come back."""
        return max(1, self.window * 1000 // max(1, self.per_window))

    @property
    def burst_ms(self) -> int:
        return self.period_ms * max(1, self.per_window)

    def expires_at(self, now: int) -> int:
        """When state written at ``now`` (seconds) can no longer matter."""
        return now + self.window + self.backoff_cap + self.memory


@dataclass(frozen=True, slots=True)
class Reservation:
    """The outcome of :meth:`RateLimiter.reserve`; ``retry_after`` (seconds) when refused."""

    granted: bool
    retry_after: int = 0


class RateLimiter(Protocol):
    """Token buckets with back-off (:class:`Limit`), shared by every worker and process.

    Invariants:

    * ``reserve`` is atomic: of N concurrent calls on a bucket with k tokens, at most k are
      granted (one ``INSERT ... ON CONFLICT ... RETURNING`` in SQL). Callers reserve *before*
      the costly or guessable step, so concurrency cannot outrun the limit.
    * Keys are stored as their SHA-256: a caller's key of any length takes 64 characters.
    * Every row carries ``expires_at`` (:meth:`Limit.expires_at`); an expired row counts as
      absent, and clean-up deletes it.
    """

    async def reserve(self, key: str, now: int, limit: Limit) -> Reservation:
        """Take one token for ``key``, or refuse with the seconds until one is available."""
        ...

    async def release(self, key: str, now: int, limit: Limit) -> None:
        """Give back one token taken by ``reserve`` (the attempt did not count after all)."""
        ...

    async def reset(self, key: str) -> None:
        """Forget ``key``: a full bucket and no back-off (e.g. after a successful sign-in)."""
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


class KeySetSource(Protocol):
    """Clients' JWK Sets published at their ``jwks_uri`` (RFC 7591 §2, RFC 7523 §2.2).

    Invariants: answers come from a per-URI cache; ``refresh=True`` asks for a new fetch (the
    client may have rotated its key), yet the source fetches a URI at most once per throttle
    interval whatever callers ask, so unknown ``kid`` values cannot make it a request amplifier.
    Only public keys are returned.
    """

    async def key_set(self, uri: str, *, refresh: bool = False) -> str | None:
        """The JWK Set as JSON text, or None when it cannot be had (the reason is logged)."""
        ...


class InitialAccessTokenStore(Protocol):
    async def add(self, token: InitialAccessToken) -> None: ...
    async def get(self, token_hash: str, now: int) -> InitialAccessToken | None:
        """The token if it is unexpired and has a use left; it is not used up by looking."""
        ...

    async def use(self, token_hash: str, now: int) -> bool:
        """Atomically take one use: True only if this call did (unexpired, a use was left)."""
        ...


class PushedRequestStore(Protocol):
    """Pushed authorization requests (RFC 9126), shared by every worker and process."""

    async def add(self, request: PushedRequest) -> None: ...
    async def consume(self, uri_hash: str, client_id: str, now: int) -> PushedRequest | None:
        """Atomically mark used; return it only if this call did so, the request is
        ``client_id``'s and it is unexpired (``now < expires_at``)."""
        ...


class AdminTokenStore(Protocol):
    async def add(self, token: AdminToken) -> None: ...
    async def get(self, token_hash: str, now: int) -> AdminToken | None:
        """The token if it is unexpired and unrevoked."""
        ...

    async def list(self) -> Sequence[AdminToken]:
        """Every token, oldest first (revoked and expired ones included)."""
        ...

    async def revoke(self, token_id: str, now: int) -> bool:
        """Revoke (idempotent; the first time kept); True if the token exists."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class GrantSelector:
    """Which grants an operator revokes: exactly one of a user, a client or one grant."""

    user_id: str | None = None
    client_id: str | None = None
    grant_id: str | None = None

    def __post_init__(self) -> None:
        chosen = [v for v in (self.user_id, self.client_id, self.grant_id) if v is not None]
        if len(chosen) != 1:
            raise ValueError("select grants by exactly one of user, client or grant")


@dataclass(frozen=True, slots=True)
class RevokedCount:
    """What a revocation ended: grants that were live, and browser sessions."""

    grants: int
    sessions: int = 0


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
    initial_access_tokens: InitialAccessTokenStore
    pushed_requests: PushedRequestStore
    admin_tokens: AdminTokenStore
    apis: ApiStore
    revocation_feed: RevocationFeedStore


class PasswordHasher(Protocol):
    """Slow, salted password hashing (argon2id in production; see ``storage/passwords.py``).

    Async because a verification costs tens of milliseconds of CPU: implementations run it off
    the event loop, so one sign-in does not stall every other request of the process.
    """

    async def hash(self, password: str) -> str: ...
    async def verify(self, password_hash: str, password: str) -> bool:
        """True iff ``password`` matches; never raises on a malformed hash.

        Raises ``TemporarilyUnavailable`` at once, without hashing, when every slot of the
        hashing queue is taken (bounded admission: a flood waits in no unbounded queue).
        """
        ...

    async def dummy_verify(self) -> None:
        """Spend the time of one verification, so unknown users answer as slowly as known ones."""
        ...

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash was made with other parameters than the current ones: the
        sign-in that proves the password stores a new hash (so raising them reaches everyone)."""
        ...
