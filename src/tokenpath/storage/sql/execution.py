"""How a statement reaches the database: one small seam with two strategies.

Every store method is a single statement, so the seam is three calls (``one``, ``all``,
``write``) plus ``rowcount`` for clean-up. Each runs its statement as its own transaction
(autocommit): an explicit ``BEGIN``/``COMMIT`` around one statement adds round trips and
guarantees nothing more.

* :class:`InlineExecutor` (SQLite, the embedded default) runs statements on the calling thread
  through the synchronous driver, one connection per thread. An indexed SQLite statement takes
  tens of microseconds; handing it to aiosqlite's worker thread cost about 1 ms of wall time and,
  under load, GIL contention between the event loop and the pool's threads (``bench/README.md``
  has the figures). The price: while SQLite waits for *another process's* write lock, this
  process's event loop waits too. Writes here are single short statements, so the wait is short;
  deployments with many writers use PostgreSQL.
* :class:`AsyncExecutor` (PostgreSQL) awaits asyncpg through SQLAlchemy's async engine.

Nothing in a process may hold an SQLite write transaction open across an ``await`` while inline
statements run (the loop would wait for a lock that only the loop can release), so on SQLite
everything the server does, clean-up included, goes through the inline executor.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, Row
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.expression import Executable

__all__ = ["AsyncExecutor", "Executor", "InlineExecutor"]

Params = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None


class Executor(Protocol):
    dialect: str

    async def one(self, statement: Executable, params: Params = None) -> Row[Any] | None: ...

    async def all(self, statement: Executable, params: Params = None) -> Sequence[Row[Any]]: ...

    async def write(self, statement: Executable, params: Params = None) -> Row[Any] | None:
        """Run a write; its ``RETURNING`` row if it has one."""
        ...

    async def rowcount(self, statement: Executable, params: Params = None) -> int: ...

    async def close(self) -> None: ...


class InlineExecutor:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._local = threading.local()
        self._connections: list[Connection] = []
        self._lock = threading.Lock()

    def _connection(self) -> Connection:
        connection: Connection | None = getattr(self._local, "connection", None)
        if connection is None or connection.closed or connection.invalidated:
            connection = self.engine.connect()
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    async def one(self, statement: Executable, params: Params = None) -> Row[Any] | None:
        return self._connection().execute(statement, params).first()

    async def all(self, statement: Executable, params: Params = None) -> Sequence[Row[Any]]:
        return self._connection().execute(statement, params).all()

    async def write(self, statement: Executable, params: Params = None) -> Row[Any] | None:
        result = self._connection().execute(statement, params)
        return result.first() if result.returns_rows else None

    async def rowcount(self, statement: Executable, params: Params = None) -> int:
        return self._connection().execute(statement, params).rowcount or 0

    async def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self.engine.dispose()


class AsyncExecutor:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.dialect = engine.dialect.name

    async def one(self, statement: Executable, params: Params = None) -> Row[Any] | None:
        async with self.engine.connect() as conn:
            return (await conn.execute(statement, params)).first()

    async def all(self, statement: Executable, params: Params = None) -> Sequence[Row[Any]]:
        async with self.engine.connect() as conn:
            return (await conn.execute(statement, params)).all()

    async def write(self, statement: Executable, params: Params = None) -> Row[Any] | None:
        async with self.engine.connect() as conn:
            result = await conn.execute(statement, params)
            return result.first() if result.returns_rows else None

    async def rowcount(self, statement: Executable, params: Params = None) -> int:
        async with self.engine.connect() as conn:
            return (await conn.execute(statement, params)).rowcount or 0

    async def close(self) -> None:
        """The engine belongs to :class:`~tokenpath.storage.sql.database.Database`."""
