"""SQL implementations of the core ports: one explicit statement per method where possible.

Invariants (pinned by ``tests/storage`` on SQLite and PostgreSQL):

* ``consume`` / ``use`` are a single conditional ``UPDATE ... RETURNING``: the database decides
  which of several concurrent callers wins, never the application.
* Counters and replay entries are single ``INSERT ... ON CONFLICT`` statements.
* Rows map to core records in ``mapping.py`` and nowhere else.
* Statements on the token path are built once, with bound parameters, so a request pays only
  for executing them (SQLAlchemy's compiled cache does the rest).

The stores live by concern: ``token_stores.py`` (grants, codes, access and refresh tokens) and
``account_stores.py`` (clients, users, keys, consents, sessions); this module keeps the shared
counters and bundles them all in :class:`SqlStores`.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select

from tokenpath.storage.sql import models as m
from tokenpath.storage.sql.account_stores import (
    SqlClientStore,
    SqlConsentStore,
    SqlKeyStore,
    SqlSessionStore,
    SqlUserStore,
)
from tokenpath.storage.sql.execution import Executor
from tokenpath.storage.sql.statements import Store as _Store
from tokenpath.storage.sql.statements import upsert as _upsert
from tokenpath.storage.sql.token_stores import (
    SqlCodeStore,
    SqlGrantStore,
    SqlRefreshTokenStore,
    SqlTokenStore,
)

__all__ = [
    "SqlClientStore",
    "SqlCodeStore",
    "SqlConsentStore",
    "SqlGrantStore",
    "SqlKeyStore",
    "SqlRateLimiter",
    "SqlRefreshTokenStore",
    "SqlReplayCache",
    "SqlSessionStore",
    "SqlStores",
    "SqlTokenStore",
    "SqlUserStore",
]


class SqlReplayCache(_Store):
    def __init__(self, db: Executor) -> None:
        super().__init__(db)
        table = m.replay_cache
        statement = _upsert(db.dialect, table).values(
            key=bindparam("p_key"), expires_at=bindparam("p_expires")
        )
        self._first_use = statement.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={"expires_at": statement.excluded.expires_at},
            where=table.c.expires_at <= bindparam("p_now"),
        ).returning(table.c.key)

    async def first_use(self, key: str, expires_at: int, now: int) -> bool:
        params = {"p_key": key, "p_expires": expires_at, "p_now": now}
        return await self._write(self._first_use, params) is not None


class SqlRateLimiter(_Store):
    _COUNT = select(m.rate_limits.c.count).where(
        m.rate_limits.c.key == bindparam("p_key"), m.rate_limits.c.bucket == bindparam("p_bucket")
    )

    def __init__(self, db: Executor) -> None:
        super().__init__(db)
        table = m.rate_limits
        statement = _upsert(db.dialect, table).values(
            key=bindparam("p_key"),
            bucket=bindparam("p_bucket"),
            count=1,
            expires_at=bindparam("p_expires"),
        )
        self._hit = statement.on_conflict_do_update(
            index_elements=[table.c.key, table.c.bucket], set_={"count": table.c.count + 1}
        ).returning(table.c.count)

    async def hit(self, key: str, now: int, window: int) -> int:
        bucket = now // window
        params = {"p_key": key, "p_bucket": bucket, "p_expires": (bucket + 1) * window}
        row = await self._write(self._hit, params)
        return int(row[0]) if row else 0

    async def count(self, key: str, now: int, window: int) -> int:
        row = await self._one(self._COUNT, {"p_key": key, "p_bucket": now // window})
        return int(row[0]) if row else 0


class SqlStores:
    """Factory for the ``Stores`` bundle over one executor."""

    def __init__(self, db: Executor) -> None:
        from tokenpath.core.ports import Stores

        self.stores = Stores(
            clients=SqlClientStore(db),
            users=SqlUserStore(db),
            grants=SqlGrantStore(db),
            codes=SqlCodeStore(db),
            tokens=SqlTokenStore(db),
            refresh_tokens=SqlRefreshTokenStore(db),
            consents=SqlConsentStore(db),
            sessions=SqlSessionStore(db),
            keys=SqlKeyStore(db),
            replay=SqlReplayCache(db),
            rate_limits=SqlRateLimiter(db),
        )
