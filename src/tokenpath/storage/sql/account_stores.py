"""Who and what the server knows: clients, users, signing keys, consents, browser sessions and
the operator's initial access tokens for dynamic registration.

Invariants (pinned by ``tests/storage`` on SQLite and PostgreSQL):

* A client's ``client_id`` and ``created_at`` never change on update.
* Consent is one row per approved scope, so merging approvals is a conflict-free insert.
* An initial access token is used up by one conditional ``UPDATE ... RETURNING`` (RFC 7591
  §3): of N concurrent registrations with a token of k uses left, at most k succeed.
* A session is found only while unexpired; the cookie's value never reaches the table, its hash
  does.
* Rows become records through :mod:`tokenpath.storage.sql.mapping` and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from tokenpath.core.records import Client, InitialAccessToken, Session, SigningKey, User
from tokenpath.storage.sql import cascades
from tokenpath.storage.sql import models as m
from tokenpath.storage.sql.mapping import (
    CLIENTS,
    INITIAL_ACCESS_TOKENS,
    SESSIONS,
    SIGNING_KEYS,
    USERS,
)
from tokenpath.storage.sql.statements import Store, by, upsert

__all__ = [
    "SqlClientStore",
    "SqlConsentStore",
    "SqlInitialAccessTokenStore",
    "SqlKeyStore",
    "SqlSessionStore",
    "SqlUserStore",
]


class SqlClientStore(Store):
    _INSERT = insert(m.clients)
    _GET = by(m.clients, "client_id")
    _FIXED = ("client_id", "created_at")
    """Columns an update leaves as they are."""

    async def get(self, client_id: str) -> Client | None:
        row = await self._one(self._GET, {"p_key": client_id})
        return CLIENTS.record(row) if row else None

    async def add(self, client: Client) -> None:
        await self._write(self._INSERT, CLIENTS.values(client))

    async def update(self, client: Client) -> None:
        values = CLIENTS.values(client)
        for column in self._FIXED:
            del values[column]
        await self._write(
            update(m.clients).where(m.clients.c.client_id == client.client_id).values(values)
        )

    async def list(self) -> Sequence[Client]:
        rows = await self._all(
            select(m.clients).order_by(m.clients.c.created_at, m.clients.c.client_id)
        )
        return [CLIENTS.record(r) for r in rows]

    async def delete(self, client_id: str) -> bool:
        counts = await self.db.transaction(cascades.delete_client(client_id))
        return counts[-1] > 0

    async def set_disabled(self, client_id: str, disabled_at: int | None) -> bool:
        table = m.clients
        value = None if disabled_at is None else func.coalesce(table.c.disabled_at, disabled_at)
        statement = update(table).where(table.c.client_id == client_id).values(disabled_at=value)
        return await self.db.rowcount(statement) > 0

    async def rotate_secret(
        self, client_id: str, secret_hash: str, previous_until: int | None
    ) -> bool:
        """One ``UPDATE``: its right-hand sides read the row as it was, so two rotations at
        once chain (the second keeps the first one's secret), never lose a secret."""
        table = m.clients
        keep = previous_until is not None
        statement = (
            update(table)
            .where(table.c.client_id == client_id)
            .values(
                secret_hash=secret_hash,
                previous_secret_hash=table.c.secret_hash if keep else None,
                previous_secret_expires_at=previous_until,
            )
        )
        return await self.db.rowcount(statement) > 0


class SqlInitialAccessTokenStore(Store):
    _T = m.initial_access_tokens
    _INSERT = insert(_T)
    _USABLE = (
        _T.c.token_hash == bindparam("p_key"),
        or_(_T.c.expires_at.is_(None), _T.c.expires_at > bindparam("p_now")),
        or_(_T.c.uses_left.is_(None), _T.c.uses_left > 0),
    )
    _GET = select(_T).where(*_USABLE)
    # NULL - 1 stays NULL: an unlimited token stays unlimited.
    _USE = (
        update(_T).where(*_USABLE).values(uses_left=_T.c.uses_left - 1).returning(_T.c.token_hash)
    )

    async def add(self, token: InitialAccessToken) -> None:
        await self._write(self._INSERT, INITIAL_ACCESS_TOKENS.values(token))

    async def get(self, token_hash: str, now: int) -> InitialAccessToken | None:
        row = await self._one(self._GET, {"p_key": token_hash, "p_now": now})
        return INITIAL_ACCESS_TOKENS.record(row) if row else None

    async def use(self, token_hash: str, now: int) -> bool:
        return await self._write(self._USE, {"p_key": token_hash, "p_now": now}) is not None


class SqlUserStore(Store):
    _INSERT = insert(m.users)
    _GET = by(m.users, "user_id")
    _BY_USERNAME = by(m.users, "username")

    async def get(self, user_id: str) -> User | None:
        row = await self._one(self._GET, {"p_key": user_id})
        return USERS.record(row) if row else None

    async def get_by_username(self, username: str) -> User | None:
        row = await self._one(self._BY_USERNAME, {"p_key": username})
        return USERS.record(row) if row else None

    async def add(self, user: User) -> None:
        """A user name already taken raises ``KeyError``, as the memory store does."""
        try:
            await self._write(self._INSERT, USERS.values(user))
        except IntegrityError:
            raise KeyError(user.username) from None

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        await self._write(
            update(m.users).where(m.users.c.user_id == user_id).values(password_hash=password_hash)
        )

    async def set_claims(self, user_id: str, claims: str) -> None:
        await self._write(update(m.users).where(m.users.c.user_id == user_id).values(claims=claims))

    async def list(self, limit: int) -> Sequence[User]:
        rows = await self._all(select(m.users).order_by(m.users.c.username).limit(limit))
        return [USERS.record(r) for r in rows]

    async def set_disabled(self, user_id: str, disabled_at: int | None) -> bool:
        if disabled_at is not None:
            counts = await self.db.transaction(cascades.disable_user(user_id, disabled_at))
            return counts[-1] > 0
        statement = update(m.users).where(m.users.c.user_id == user_id).values(disabled_at=None)
        return await self.db.rowcount(statement) > 0

    async def delete(self, user_id: str, now: int) -> bool:
        counts = await self.db.transaction(cascades.delete_user(user_id, now))
        return counts[-1] > 0


class SqlConsentStore(Store):
    """One row per approved scope, so merging approvals is a plain conflict-free insert."""

    _GET = select(m.consents.c.scope).where(
        m.consents.c.user_id == bindparam("p_user"), m.consents.c.client_id == bindparam("p_client")
    )

    async def get(self, user_id: str, client_id: str) -> frozenset[str]:
        rows = await self._all(self._GET, {"p_user": user_id, "p_client": client_id})
        return frozenset(r.scope for r in rows)

    async def add(self, user_id: str, client_id: str, scopes: frozenset[str], now: int) -> None:
        if not scopes:
            return
        rows = [
            {"user_id": user_id, "client_id": client_id, "scope": s, "granted_at": now}
            for s in sorted(scopes)
        ]
        statement = upsert(self.db.dialect, m.consents).values(rows)
        await self._write(statement.on_conflict_do_nothing())


class SqlSessionStore(Store):
    _INSERT = insert(m.sessions)
    _GET = select(m.sessions).where(
        m.sessions.c.session_hash == bindparam("p_key"),
        m.sessions.c.expires_at > bindparam("p_now"),
    )

    async def add(self, session: Session) -> None:
        await self._write(self._INSERT, SESSIONS.values(session))

    async def get(self, session_hash: str, now: int) -> Session | None:
        row = await self._one(self._GET, {"p_key": session_hash, "p_now": now})
        return SESSIONS.record(row) if row else None

    async def delete(self, session_hash: str) -> None:
        await self._write(delete(m.sessions).where(m.sessions.c.session_hash == session_hash))


class SqlKeyStore(Store):
    _INSERT = insert(m.signing_keys)

    async def add(self, key: SigningKey) -> None:
        await self._write(self._INSERT, SIGNING_KEYS.values(key))

    async def list_active(self) -> Sequence[SigningKey]:
        table = m.signing_keys
        rows = await self._all(
            select(table)
            .where(table.c.retired_at.is_(None))
            .order_by(table.c.created_at.desc(), table.c.kid.desc())
        )
        return [SIGNING_KEYS.record(r) for r in rows]

    async def retire(self, kid: str, now: int) -> None:
        table = m.signing_keys
        await self._write(
            update(table)
            .where(table.c.kid == kid, table.c.retired_at.is_(None))
            .values(retired_at=now)
        )
