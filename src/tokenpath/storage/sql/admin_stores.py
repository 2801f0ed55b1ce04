"""The admin API's tokens: only their SHA-256 is stored, looked up by it.

Invariants (pinned by ``tests/storage`` on SQLite and PostgreSQL): a token is found only while
unexpired and unrevoked; revoking keeps the first revocation time.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, insert, or_, select, update

from tokenpath.core.records import AdminToken
from tokenpath.storage.sql import models as m
from tokenpath.storage.sql.mapping import ADMIN_TOKENS
from tokenpath.storage.sql.statements import Store

__all__ = ["SqlAdminTokenStore"]


class SqlAdminTokenStore(Store):
    _T = m.admin_tokens
    _INSERT = insert(_T)
    _GET = select(_T).where(
        _T.c.token_hash == bindparam("p_key"),
        _T.c.revoked_at.is_(None),
        or_(_T.c.expires_at.is_(None), _T.c.expires_at > bindparam("p_now")),
    )

    async def add(self, token: AdminToken) -> None:
        await self._write(self._INSERT, ADMIN_TOKENS.values(token))

    async def get(self, token_hash: str, now: int) -> AdminToken | None:
        row = await self._one(self._GET, {"p_key": token_hash, "p_now": now})
        return ADMIN_TOKENS.record(row) if row else None

    async def list(self) -> Sequence[AdminToken]:
        rows = await self._all(select(self._T).order_by(self._T.c.created_at, self._T.c.token_id))
        return [ADMIN_TOKENS.record(r) for r in rows]

    async def revoke(self, token_id: str, now: int) -> bool:
        table = self._T
        exists = await self._one(select(table.c.token_id).where(table.c.token_id == token_id))
        await self._write(
            update(table)
            .where(table.c.token_id == token_id, table.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return exists is not None
