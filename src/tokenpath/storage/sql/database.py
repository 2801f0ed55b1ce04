"""Opening the database and migrating it: the one place that knows URLs, engines and pragmas.

* ``sqlite+aiosqlite:///path`` is the embedded default; WAL mode and a busy timeout let several
  connections (and processes) write without "database is locked" errors surfacing. The stores
  reach SQLite inline through the synchronous driver (``execution.py`` says why); the async
  engine remains for migrations and ad-hoc queries.
* ``postgresql+asyncpg://...`` is the production database; ``schema`` selects a ``search_path``
  (tests use a fresh schema per run).
* ``upgrade`` runs the Alembic migrations to head; it is idempotent and runs at every start.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from tokenpath.core.ports import Stores
from tokenpath.storage.sql.execution import AsyncpgExecutor, Executor, InlineExecutor
from tokenpath.storage.sql.stores import SqlStores

__all__ = [
    "Database",
    "create_engine",
    "open_database",
    "upgrade",
    "upgrade_async",
]

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A bigger page cache and memory-mapped reads keep index lookups flat as tables grow.
    cursor.execute("PRAGMA cache_size=-65536")  # KiB: 64 MiB per connection
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.close()


def _sqlite_file(url: str) -> str:
    parsed = make_url(url)
    if parsed.database in (None, "", ":memory:"):
        raise ValueError("use a SQLite file: an in-memory database is private to one connection")
    Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return parsed.database


def _is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, schema: str | None = None, pool_size: int = 10) -> AsyncEngine:
    if _is_sqlite(url):
        _sqlite_file(url)
        async_url = make_url(url).set(drivername="sqlite+aiosqlite")
        engine = create_async_engine(
            async_url, pool_size=pool_size, max_overflow=pool_size, hide_parameters=True
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, Any] = {}
    if schema:
        connect_args["server_settings"] = {"search_path": schema}
    return create_async_engine(
        url,
        hide_parameters=True,  # bound values (hashes, ids) stay out of error messages and logs
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args=connect_args,
        pool_pre_ping=True,
    )


def _inline_sqlite(url: str) -> InlineExecutor:
    """Synchronous SQLite for the stores: one connection per thread, each statement committed."""
    engine = sqlalchemy.create_engine(
        make_url(url).set(drivername="sqlite"),
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",
        hide_parameters=True,
        connect_args={"check_same_thread": False},
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    return InlineExecutor(engine)


@dataclass(frozen=True, slots=True)
class Database:
    engine: AsyncEngine
    """For migrations and ad-hoc queries; the stores go through ``executor``."""
    executor: Executor
    stores: Stores

    async def close(self) -> None:
        await self.executor.close()
        await self.engine.dispose()


async def open_database(url: str, *, schema: str | None = None, pool_size: int = 10) -> Database:
    engine = create_engine(url, schema=schema, pool_size=pool_size)
    executor: Executor
    if _is_sqlite(url):
        executor = _inline_sqlite(url)
    else:
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        executor = AsyncpgExecutor(dsn, schema=schema, pool_size=pool_size)
    return Database(engine=engine, executor=executor, stores=SqlStores(executor).stores)


def _alembic_config(url: str, schema: str | None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["schema"] = schema
    return config


def upgrade(url: str, *, schema: str | None = None) -> None:
    """Apply every migration (blocking; safe to call on every start-up, from any thread).

    The migration environment runs its own event loop, so when this thread already has one
    running the work moves to a short-lived worker thread.
    """
    config = _alembic_config(url, schema)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        command.upgrade(config, "head")
        return
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(command.upgrade, config, "head").result()


async def upgrade_async(url: str, *, schema: str | None = None) -> None:
    await asyncio.to_thread(command.upgrade, _alembic_config(url, schema), "head")
