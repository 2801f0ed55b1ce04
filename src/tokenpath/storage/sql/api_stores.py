"""Registered APIs and the revocation feed (``core/apis.py``, ``core/revocation_feed.py``).

Invariants (pinned by ``tests/storage`` on SQLite and PostgreSQL):

* An API's ``client_id`` is unique: one set of credentials belongs to one API.
* ``revocation_events.event_id`` is the database's autoincrement key, so entries stored later
  get larger ids and a cursor is one integer. Ids are handed out before commit, so a smaller
  id can become visible after a larger one (PostgreSQL sequences): the cursor therefore stops
  below any entry created less than a few seconds ago (``settled``), and such entries are sent
  again in the next answer rather than skipped.
* Rows become records through :mod:`tokenpath.storage.sql.mapping` and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, delete, func, insert, select, update

from tokenpath.core.records import Api, RevocationEvent
from tokenpath.storage.sql import models as m
from tokenpath.storage.sql.mapping import APIS, REVOCATION_EVENTS
from tokenpath.storage.sql.statements import Store, by

__all__ = ["SqlApiStore", "SqlRevocationFeedStore"]


class SqlApiStore(Store):
    _INSERT = insert(m.apis)
    _GET = by(m.apis, "identifier")
    _BY_CLIENT = by(m.apis, "client_id")
    _FIXED = ("identifier", "client_id", "created_at")
    """Columns an update leaves as they are."""

    async def get(self, identifier: str) -> Api | None:
        row = await self._one(self._GET, {"p_key": identifier})
        return APIS.record(row) if row else None

    async def get_by_client(self, client_id: str) -> Api | None:
        row = await self._one(self._BY_CLIENT, {"p_key": client_id})
        return APIS.record(row) if row else None

    async def add(self, api: Api) -> None:
        await self._write(self._INSERT, APIS.values(api))

    async def update(self, api: Api) -> None:
        values = APIS.values(api)
        for column in self._FIXED:
            del values[column]
        await self._write(
            update(m.apis).where(m.apis.c.identifier == api.identifier).values(values)
        )

    async def list(self) -> Sequence[Api]:
        rows = await self._all(select(m.apis).order_by(m.apis.c.created_at, m.apis.c.identifier))
        return [APIS.record(r) for r in rows]

    async def delete(self, identifier: str) -> None:
        await self._write(delete(m.apis).where(m.apis.c.identifier == identifier))


class SqlRevocationFeedStore(Store):
    _T = m.revocation_events
    _INSERT = insert(_T)
    _SETTLED = select(func.coalesce(func.max(_T.c.event_id), 0)).where(
        _T.c.event_id > bindparam("p_after"), _T.c.created_at < bindparam("p_settled")
    )
    _PAGE = (
        select(_T)
        .where(
            _T.c.audience == bindparam("p_audience"),
            _T.c.event_id > bindparam("p_after"),
            _T.c.expires_at > bindparam("p_now"),
        )
        .order_by(_T.c.event_id)
        .limit(bindparam("p_limit"))
    )

    async def add(self, events: Sequence[RevocationEvent]) -> None:
        for event in events:
            values = REVOCATION_EVENTS.values(event)
            del values["event_id"]
            await self._write(self._INSERT, values)

    async def since(
        self, audience: str, after: int, now: int, limit: int, settled: int
    ) -> tuple[Sequence[RevocationEvent], int]:
        settled_row = await self._one(self._SETTLED, {"p_after": after, "p_settled": settled})
        high = int(settled_row[0]) if settled_row else 0
        params = {"p_audience": audience, "p_after": after, "p_now": now, "p_limit": limit}
        page = [REVOCATION_EVENTS.record(row) for row in await self._all(self._PAGE, params)]
        if len(page) == limit:
            high = min(high, page[-1].event_id)
        return page, max(high, after)
