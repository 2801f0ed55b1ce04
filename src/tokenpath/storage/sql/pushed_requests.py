"""Pushed authorization requests (RFC 9126) in SQL: shared by every worker and process.

Invariant (pinned by ``tests/storage/test_pushed_requests.py`` on SQLite and PostgreSQL):
``consume`` is one conditional ``UPDATE ... RETURNING``, so of any number of concurrent
``/authorize`` requests naming one ``request_uri`` at most one gets it (RFC 9126 §4: one-time
use), only its own client does, and never after it expired.
"""

from __future__ import annotations

from sqlalchemy import bindparam, insert, update

from tokenpath.core.records import PushedRequest
from tokenpath.storage.sql import models as m
from tokenpath.storage.sql.mapping import PUSHED_REQUESTS
from tokenpath.storage.sql.statements import Store

__all__ = ["SqlPushedRequestStore"]


class SqlPushedRequestStore(Store):
    _INSERT = insert(m.pushed_requests)
    _CONSUME = (
        update(m.pushed_requests)
        .where(
            m.pushed_requests.c.uri_hash == bindparam("p_key"),
            m.pushed_requests.c.client_id == bindparam("p_client"),
            m.pushed_requests.c.used_at.is_(None),
            m.pushed_requests.c.expires_at > bindparam("p_now"),
        )
        .values(used_at=bindparam("p_now"))
        .returning(*m.pushed_requests.c)
    )

    async def add(self, request: PushedRequest) -> None:
        await self._write(self._INSERT, PUSHED_REQUESTS.values(request))

    async def consume(self, uri_hash: str, client_id: str, now: int) -> PushedRequest | None:
        params = {"p_key": uri_hash, "p_client": client_id, "p_now": now}
        row = await self._write(self._CONSUME, params)
        return PUSHED_REQUESTS.record(row) if row else None
