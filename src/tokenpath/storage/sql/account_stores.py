"""Who and what the server knows: clients, users, signing keys, consents and browser sessions.

Invariants (pinned by ``tests/storage`` on SQLite and PostgreSQL):

* A client's ``client_id`` and ``created_at`` never change on update.
* Consent is one row per approved scope, so merging approvals is a conflict-free insert.
* A session is found only while unexpired; the cookie's value never reaches the table, its hash
  does.
* Rows become records through :mod:`tokenpath.storage.sql.mapping` and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, delete, insert, select, update

from tokenpath.core.records import Client, Session, SigningKey, User
from tokenpath.storage.sql import models as m
from tokenpath.storage.sql.mapping import CLIENTS, SESSIONS, SIGNING_KEYS, USERS
from tokenpath.storage.sql.statements import Store, by, upsert

__all__ = [
    "SqlClientStore",
    "SqlConsentStore",
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
        await self._write(self._INSERT, USERS.values(user))

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        await self._write(
            update(m.users).where(m.users.c.user_id == user_id).values(password_hash=password_hash)
        )

    async def set_claims(self, user_id: str, claims: str) -> None:
        await self._write(update(m.users).where(m.users.c.user_id == user_id).values(claims=claims))


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
