"""Opening the database and migrating it: the one place that knows URLs, engines and pragmas.

* ``sqlite+aiosqlite:///path`` is the embedded default; WAL mode and a busy timeout let several
  connections (and processes) write without "database is locked" errors surfacing. The stores
  reach SQLite inline through the synchronous driver (``execution.py`` says why); the async
  engine remains for migrations and ad-hoc queries.
* ``postgresql+asyncpg://...`` is the production database; ``schema`` selects a ``search_path``
  (tests use a fresh schema per run).
* ``upgrade`` runs the Alembic migrations to head; it is idempotent and runs at every start.
  Given the key-encryption key, it also wraps any signing key still stored in plain text
  (``storage/key_encryption.py``), whichever migration the database was at.

A SQLite database holds the private signing keys and every live grant, so its files are for
this server's user only (RFC 6819 §5.1.4.1: protect stored credentials by system means): the
directory is created 0700 and the database file 0600 before SQLite opens it. SQLite gives its
``-wal``, ``-shm`` and ``-journal`` files the mode of the database file, so no process-wide umask
(which would race with other threads creating files) is needed. Files we own that are wider are
narrowed; :func:`check_database_permissions` reports what is still readable by others, for the
server to refuse to start on.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import stat
from collections.abc import Sequence
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
from tokenpath.storage.key_encryption import KeyEncryptionKey, parse_keks
from tokenpath.storage.sql.execution import AsyncpgExecutor, Executor, InlineExecutor
from tokenpath.storage.sql.key_rows import encrypt_plaintext_keys
from tokenpath.storage.sql.stores import SqlStores

__all__ = [
    "Database",
    "check_database_permissions",
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


_PRIVATE_DIRECTORY = 0o700
_PRIVATE_FILE = 0o600
_SHARED = 0o066  # read or write for the group or others
_SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if database in (None, "", ":memory:"):
        raise ValueError("use a SQLite file: an in-memory database is private to one connection")
    return Path(database).absolute()


def _database_files(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in _SQLITE_SUFFIXES]


def _ours(path: Path) -> os.stat_result | None:
    """``path``'s status if this process's user owns it (only the owner may chmod it)."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status if status.st_uid == os.geteuid() else None


def _private_directory(directory: Path) -> None:
    """Create ``directory`` 0700; narrow it if it exists, is ours and is still empty (a caller
    has just created it with the default mode). A directory with other files in it may be
    shared on purpose: it is reported by :func:`check_database_permissions`, never changed."""
    try:
        directory.mkdir(mode=_PRIVATE_DIRECTORY, parents=True)
        return
    except FileExistsError:
        status = _ours(directory)
    shared = status is not None and stat.S_IMODE(status.st_mode) & 0o077
    if shared and directory.is_dir() and not any(directory.iterdir()):
        directory.chmod(_PRIVATE_DIRECTORY)


def _sqlite_file(url: str) -> str:
    """Make the database's directory and file private to this user before SQLite opens them."""
    path = _sqlite_path(url)
    if os.name != "posix":
        path.parent.mkdir(parents=True, exist_ok=True)
        return str(path)
    _private_directory(path.parent)
    with contextlib.suppress(FileExistsError):  # created 0600 before SQLite creates it 0644
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE_FILE))
    for file in _database_files(path):
        status = _ours(file)
        if status is not None and stat.S_IMODE(status.st_mode) & 0o077:
            file.chmod(_PRIVATE_FILE)
    return str(path)


def check_database_permissions(database_url: str) -> list[str]:
    """What lets another local user read or change the SQLite database, one sentence each;
    ``[]`` when nothing does, and for PostgreSQL (its server guards its own files).

    The server refuses to start on a non-empty answer unless told to allow it: a reader of the
    file holds the signing keys' database rows and every live grant."""
    if not _is_sqlite(database_url):
        return []
    path = _sqlite_path(database_url)
    problems = []
    for target, private in [(path.parent, "700"), *((f, "600") for f in _database_files(path))]:
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & _SHARED:
            problems.append(
                f"{target} is readable or writable by its group or others (mode {mode:04o}); "
                f"run: chmod {private} {target}"
            )
    return problems


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


KeyEncryptionKeys = str | Sequence[KeyEncryptionKey]
"""``TOKENPATH_KEY_ENCRYPTION_KEY``'s text, or KEKs already parsed (``load_keks``)."""


def _keks(value: KeyEncryptionKeys) -> tuple[KeyEncryptionKey, ...]:
    return parse_keks(value) if isinstance(value, str) else tuple(value)


def _alembic_config(
    url: str, schema: str | None, keks: tuple[KeyEncryptionKey, ...] = ()
) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["schema"] = schema
    config.attributes["key_encryption_keys"] = keks
    return config


async def _encrypt_plaintext(url: str, schema: str | None, kek: KeyEncryptionKey) -> None:
    database = await open_database(url, schema=schema, pool_size=1)
    try:
        await encrypt_plaintext_keys(database.executor, kek)
    finally:
        await database.close()


def _upgrade(url: str, schema: str | None, keks: tuple[KeyEncryptionKey, ...]) -> None:
    command.upgrade(_alembic_config(url, schema, keks), "head")
    if keks:
        asyncio.run(_encrypt_plaintext(url, schema, keks[0]))


def upgrade(
    url: str, *, schema: str | None = None, key_encryption_key: KeyEncryptionKeys = ""
) -> None:
    """Apply every migration (blocking; safe to call on every start-up, from any thread), then,
    given a key-encryption key, wrap the signing keys still in plain text with the first one.

    The migration environment runs its own event loop, so when this thread already has one
    running the work moves to a short-lived worker thread.
    """
    keks = _keks(key_encryption_key)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        _upgrade(url, schema, keks)
        return
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(_upgrade, url, schema, keks).result()


async def upgrade_async(
    url: str, *, schema: str | None = None, key_encryption_key: KeyEncryptionKeys = ""
) -> None:
    keks = _keks(key_encryption_key)
    await asyncio.to_thread(command.upgrade, _alembic_config(url, schema, keks), "head")
    if keks:
        await _encrypt_plaintext(url, schema, keks[0])
