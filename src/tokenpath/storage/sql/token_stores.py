"""The token path's stores: grants, authorization codes, access tokens and refresh tokens.

Invariants (pinned by ``tests/storage`` on SQLite and PostgreSQL):

* ``consume`` / ``use`` are a single conditional ``UPDATE ... RETURNING``: the database decides
  which of several concurrent callers wins, never the application (RFC 6749 §4.1.2 single use,
  RFC 9700 §4.14.2 refresh-token rotation).
* Revoking an access token the server has no row for inserts it already revoked, in one
  ``INSERT ... ON CONFLICT`` (a JWT is only recorded once someone revokes it).
* Rows become records through :mod:`tokenpath.storage.sql.mapping` and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, insert, select, update

from tokenpath.core.ports import GrantSelector, RevokedCount
from tokenpath.core.records import AccessTokenRecord, AuthorizationCode, Grant, RefreshTokenRecord
from tokenpath.storage.sql import cascades
from tokenpath.storage.sql import models as m
from tokenpath.storage.sql.mapping import ACCESS_TOKENS, CODES, GRANTS, REFRESH_TOKENS
from tokenpath.storage.sql.statements import Store, by, upsert

__all__ = ["SqlCodeStore", "SqlGrantStore", "SqlRefreshTokenStore", "SqlTokenStore"]


class SqlGrantStore(Store):
    _INSERT = insert(m.grants)
    _GET = by(m.grants, "grant_id")
    _BY_SID = by(m.grants, "sid").order_by(m.grants.c.created_at)

    async def add(self, grant: Grant) -> None:
        await self._write(self._INSERT, GRANTS.values(grant))

    async def get(self, grant_id: str) -> Grant | None:
        row = await self._one(self._GET, {"p_key": grant_id})
        return GRANTS.record(row) if row else None

    async def revoke(self, grant_id: str, now: int) -> None:
        table = m.grants
        await self._write(
            update(table)
            .where(table.c.grant_id == grant_id, table.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def list_live_by_client(self, client_id: str, limit: int) -> Sequence[Grant]:
        """Uses ``ix_grants_client_user``."""
        table = m.grants
        statement = (
            select(table)
            .where(table.c.client_id == client_id, table.c.revoked_at.is_(None))
            .limit(limit)
        )
        return [GRANTS.record(row) for row in await self._all(statement)]

    async def list_by_sid(self, sid: str) -> Sequence[Grant]:
        """Uses ``ix_grants_sid``; a session holds a handful of grants, so no bound is needed."""
        if not sid:
            return []
        return [GRANTS.record(row) for row in await self._all(self._BY_SID, {"p_key": sid})]

    async def list_for(
        self, *, user_id: str | None = None, client_id: str | None = None, limit: int
    ) -> Sequence[Grant]:
        table = m.grants
        if user_id is not None:
            where = table.c.user_id == user_id
        else:
            where = table.c.client_id == client_id
        statement = (
            select(table)
            .where(where)
            .order_by(table.c.created_at.desc(), table.c.grant_id)
            .limit(limit)
        )
        return [GRANTS.record(row) for row in await self._all(statement)]

    async def revoke_for(self, selector: GrantSelector, now: int) -> RevokedCount:
        counts = await self.db.transaction(cascades.revoke_grants(selector, now))
        sessions = counts[3] if selector.user_id is not None else 0
        return RevokedCount(grants=counts[0], sessions=sessions)


class SqlCodeStore(Store):
    _INSERT = insert(m.codes)
    _GET = by(m.codes, "code_hash")
    _CONSUME = (
        update(m.codes)
        .where(
            m.codes.c.code_hash == bindparam("p_key"),
            m.codes.c.consumed_at.is_(None),
            m.codes.c.expires_at > bindparam("p_now"),
        )
        .values(consumed_at=bindparam("p_now"))
        .returning(*m.codes.c)
    )

    async def add(self, code: AuthorizationCode) -> None:
        await self._write(self._INSERT, CODES.values(code))

    async def get(self, code_hash: str) -> AuthorizationCode | None:
        row = await self._one(self._GET, {"p_key": code_hash})
        return CODES.record(row) if row else None

    async def consume(self, code_hash: str, now: int) -> AuthorizationCode | None:
        row = await self._write(self._CONSUME, {"p_key": code_hash, "p_now": now})
        return CODES.record(row) if row else None


class SqlTokenStore(Store):
    _INSERT = insert(m.access_tokens)
    _GET = by(m.access_tokens, "jti")
    _BY_HASH = by(m.access_tokens, "token_hash")

    async def add(self, token: AccessTokenRecord) -> None:
        await self._write(self._INSERT, ACCESS_TOKENS.values(token))

    async def get(self, jti: str) -> AccessTokenRecord | None:
        row = await self._one(self._GET, {"p_key": jti})
        return ACCESS_TOKENS.record(row) if row else None

    async def get_by_hash(self, token_hash: str) -> AccessTokenRecord | None:
        row = await self._one(self._BY_HASH, {"p_key": token_hash})
        return ACCESS_TOKENS.record(row) if row else None

    async def revoke(self, token: AccessTokenRecord, now: int) -> None:
        table = m.access_tokens
        statement = upsert(self.db.dialect, table).values(
            ACCESS_TOKENS.values(token) | {"revoked_at": now}
        )
        await self._write(
            statement.on_conflict_do_update(
                index_elements=[table.c.jti],
                set_={"revoked_at": now},
                where=table.c.revoked_at.is_(None),
            )
        )


class SqlRefreshTokenStore(Store):
    _INSERT = insert(m.refresh_tokens)
    _GET = by(m.refresh_tokens, "token_hash")
    _USE = (
        update(m.refresh_tokens)
        .where(
            m.refresh_tokens.c.token_hash == bindparam("p_key"),
            m.refresh_tokens.c.used_at.is_(None),
            m.refresh_tokens.c.revoked_at.is_(None),
            m.refresh_tokens.c.expires_at > bindparam("p_now"),
            m.refresh_tokens.c.idle_expires_at > bindparam("p_now"),
        )
        .values(used_at=bindparam("p_now"))
        .returning(*m.refresh_tokens.c)
    )

    async def add(self, token: RefreshTokenRecord) -> None:
        await self._write(self._INSERT, REFRESH_TOKENS.values(token))

    async def get(self, token_hash: str) -> RefreshTokenRecord | None:
        row = await self._one(self._GET, {"p_key": token_hash})
        return REFRESH_TOKENS.record(row) if row else None

    async def use(self, token_hash: str, now: int) -> RefreshTokenRecord | None:
        row = await self._write(self._USE, {"p_key": token_hash, "p_now": now})
        return REFRESH_TOKENS.record(row) if row else None
