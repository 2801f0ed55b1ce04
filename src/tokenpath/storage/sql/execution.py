"""How a statement reaches the database: one small seam with two strategies.

Every store method on the token path is a single statement, so the seam is three calls
(``one``, ``all``, ``write``) plus ``rowcount`` for clean-up. Each runs its statement as its own
transaction (autocommit): an explicit ``BEGIN``/``COMMIT`` around one statement adds round trips
and guarantees nothing more. An operator's change that spans tables (deleting a client with its
tokens) is the one exception: ``transaction`` runs a fixed list of writes all or nothing.

* :class:`InlineExecutor` (SQLite, the embedded default) runs statements on the calling thread
  through the synchronous driver, one connection per thread. An indexed SQLite statement takes
  tens of microseconds; handing it to aiosqlite's worker thread cost about 1 ms of wall time and,
  under load, GIL contention between the event loop and the pool's threads (``bench/README.md``
  has the figures). The price: while SQLite waits for *another process's* write lock, this
  process's event loop waits too. Writes here are single short statements, so the wait is short;
  deployments with many writers use PostgreSQL.
* :class:`AsyncpgExecutor` (PostgreSQL) sends SQLAlchemy-compiled statements straight to an
  asyncpg pool: each statement is compiled once and then costs what asyncpg costs (measured: a
  quarter of the CPU of the same statement through SQLAlchemy's async engine). No ping per
  checkout (a round trip each): a statement that fails because the server dropped the pooled
  connection (a database restart) is retried once on a fresh connection. Errors are raised as
  SQLAlchemy's (``IntegrityError`` for a duplicate key), as the inline executor raises them.

Nothing in a process may hold an SQLite write transaction open across an ``await`` while inline
statements run (the loop would wait for a lock that only the loop can release), so on SQLite
everything the server does, clean-up included, goes through the inline executor.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

import asyncpg
from sqlalchemy import Connection, Engine, Row
from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.sql.expression import Executable

__all__ = ["AsyncpgExecutor", "Executor", "InlineExecutor", "Step"]

Params = Mapping[str, Any] | None
Step = tuple[Executable, Params]


class Executor(Protocol):
    dialect: str

    async def one(self, statement: Executable, params: Params = None) -> Row[Any] | None: ...

    async def all(self, statement: Executable, params: Params = None) -> Sequence[Row[Any]]: ...

    async def write(self, statement: Executable, params: Params = None) -> Row[Any] | None:
        """Run a write; its ``RETURNING`` row if it has one."""
        ...

    async def rowcount(self, statement: Executable, params: Params = None) -> int: ...

    async def transaction(self, steps: Sequence[Step]) -> list[int]:
        """Run the writes in one transaction, all or nothing; each one's row count."""
        ...

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

    async def transaction(self, steps: Sequence[Step]) -> list[int]:
        """``BEGIN IMMEDIATE`` takes the write lock first, so the steps never deadlock with
        another writer halfway; nothing awaits while it is held."""
        connection = self._connection()
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            counts = [connection.execute(s, p).rowcount or 0 for s, p in steps]
        except BaseException:
            connection.exec_driver_sql("ROLLBACK")
            raise
        connection.exec_driver_sql("COMMIT")
        return counts

    async def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self.engine.dispose()


def _count(status: str) -> int:
    """The row count of a command tag such as ``UPDATE 3``."""
    count = status.rsplit(" ", 1)[-1]
    return int(count) if count.isdigit() else 0


class _Record:
    """Attribute and index access to an asyncpg record, as the stores read SQLAlchemy rows."""

    __slots__ = ("_record",)

    def __init__(self, record: Any) -> None:
        self._record = record

    def __getattr__(self, name: str) -> Any:
        try:
            return self._record[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, index: int) -> Any:
        return self._record[index]


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    bound: Mapping[str, Any]
    returns_rows: bool

    def args(self, params: Mapping[str, Any] | None) -> list[Any]:
        values = self.bound if params is None else {**self.bound, **params}
        return [values[name] for name in self.names]


class AsyncpgExecutor:
    dialect = "postgresql"
    _DROPPED = (
        asyncpg.ConnectionDoesNotExistError,
        asyncpg.AdminShutdownError,  # the server ended this session before our statement
        asyncpg.InterfaceError,
        asyncpg.InternalClientError,
        ConnectionError,
    )

    def __init__(self, dsn: str, *, schema: str | None = None, pool_size: int = 10) -> None:
        self._dsn = dsn
        self._settings = {"search_path": schema} if schema else {}
        self._pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()
        self._sql_dialect = pg_asyncpg.dialect(paramstyle="numeric_dollar")  # type: ignore[no-untyped-call]
        self._cache: dict[tuple[Executable, tuple[str, ...]], _Compiled] = {}
        """Keyed by the statement object itself (not its ``id``), so a key cannot be reused."""

    async def _open_pool(self) -> asyncpg.Pool:
        async with self._lock:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self._dsn, min_size=1, max_size=self._pool_size, server_settings=self._settings
                )
        return self._pool

    def _compile(self, statement: Executable, params: Params) -> _Compiled:
        """Compile once per prebuilt statement (those come with ``params``); others each time."""
        keys = tuple(params) if params is not None else ()
        key = (statement, keys)
        cached = self._cache.get(key) if params is not None else None
        if cached is not None:
            return cached
        compiled = statement.compile(  # type: ignore[attr-defined]
            dialect=self._sql_dialect, column_keys=list(keys) or None
        )
        result = _Compiled(
            sql=compiled.string,
            names=tuple(compiled.positiontup or ()),
            bound=compiled.params,
            returns_rows=bool(compiled.returning) or bool(getattr(statement, "is_select", False)),
        )
        if params is not None:
            self._cache[key] = result
        return result

    async def _run(self, statement: Executable, params: Params, method: str) -> Any:
        compiled = self._compile(statement, params)
        args = compiled.args(params)
        if method == "write":
            method = "fetchrow" if compiled.returns_rows else "execute"
        pool = self._pool or await self._open_pool()
        for attempt in (1, 2):
            try:
                async with pool.acquire() as conn:
                    return await getattr(conn, method)(compiled.sql, *args)
            except self._DROPPED:
                if attempt == 2:
                    raise
            except asyncpg.IntegrityConstraintViolationError as error:
                raise IntegrityError(compiled.sql, None, error, hide_parameters=True) from error
            except asyncpg.PostgresError as error:
                raise DBAPIError(compiled.sql, None, error, hide_parameters=True) from error
        raise AssertionError("unreachable")

    async def one(self, statement: Executable, params: Params = None) -> Row[Any] | None:
        record = await self._run(statement, params, "fetchrow")
        return cast(Row[Any], _Record(record)) if record is not None else None

    async def all(self, statement: Executable, params: Params = None) -> Sequence[Row[Any]]:
        return [cast(Row[Any], _Record(r)) for r in await self._run(statement, params, "fetch")]

    async def write(self, statement: Executable, params: Params = None) -> Row[Any] | None:
        result = await self._run(statement, params, "write")
        if result is None or isinstance(result, str):
            return None
        return cast(Row[Any], _Record(result))

    async def rowcount(self, statement: Executable, params: Params = None) -> int:
        status: str = await self._run(statement, params, "execute")
        return _count(status)

    async def transaction(self, steps: Sequence[Step]) -> list[int]:
        """Retried (three tries in all) when nothing of it can have happened: the connection
        dropped before the commit, or PostgreSQL aborted it whole to break a deadlock."""
        compiled = [(self._compile(s, p), p) for s, p in steps]
        pool = self._pool or await self._open_pool()
        for attempt in (1, 2, 3):
            try:
                async with pool.acquire() as conn, conn.transaction():
                    return [_count(await conn.execute(c.sql, *c.args(p))) for c, p in compiled]
            except (*self._DROPPED, asyncpg.DeadlockDetectedError):
                if attempt == 3:
                    raise
            except asyncpg.IntegrityConstraintViolationError as error:
                raise IntegrityError("transaction", None, error, hide_parameters=True) from error
            except asyncpg.PostgresError as error:
                raise DBAPIError("transaction", None, error, hide_parameters=True) from error
        raise AssertionError("unreachable")

    def pool_status(self) -> tuple[int, int]:
        """(connections open, of which idle): what the pool-use metric reports."""
        pool = self._pool
        return (pool.get_size(), pool.get_idle_size()) if pool is not None else (0, 0)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
