"""Opening and migrating databases: the migrations build exactly ``models.py``, re-running them
is harmless, SQLite is configured for concurrent writers and its files are private to the
server's user, and several processes' engines share one code without double redemption."""

from __future__ import annotations

import asyncio
import os
import secrets
import stat
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from tokenpath.core.clock import hash_token
from tokenpath.core.records import AuthorizationCode, Session
from tokenpath.settings import sqlite_url
from tokenpath.storage.sql import Database, check_database_permissions, open_database, upgrade
from tokenpath.storage.sql.database import MIGRATIONS
from tokenpath.storage.sql.models import metadata

pytestmark = pytest.mark.anyio
HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()
TABLES = {
    "access_tokens",
    "admin_tokens",
    "apis",
    "clients",
    "codes",
    "consents",
    "grants",
    "initial_access_tokens",
    "pushed_requests",
    "rate_limits",
    "refresh_tokens",
    "replay_cache",
    "revocation_events",
    "sessions",
    "signing_keys",
    "users",
}


def _schema_diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def _diff(database: Database) -> list[Any]:
    async with database.engine.connect() as connection:
        return await connection.run_sync(_schema_diff)


async def _revision(database: Database) -> list[str]:
    async with database.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT version_num FROM alembic_version"))).all()
    return [r[0] for r in rows]


async def test_migrations_match_models_and_upgrade_is_idempotent(db_url: str) -> None:
    database = await open_database(db_url)
    try:
        assert await _diff(database) == []
        assert await _revision(database) == [HEAD]
        await database.stores.grants.revoke("nothing", 1)  # tables are usable
        upgrade(db_url)  # called from inside a running loop, as a server's start-up does
        upgrade(db_url)
        assert await _revision(database) == [HEAD]
        assert await _diff(database) == []
    finally:
        await database.close()


def test_models_declare_every_table_the_migration_creates() -> None:
    assert set(metadata.tables) == TABLES


async def test_sqlite_pragmas_let_writers_wait(sqlite_url: str) -> None:
    database = await open_database(sqlite_url)
    try:
        async with database.engine.connect() as connection:
            mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar_one()
            timeout = (await connection.execute(text("PRAGMA busy_timeout"))).scalar_one()
        assert mode == "wal" and timeout >= 5000
    finally:
        await database.close()


async def test_default_sqlite_url_is_absolute_and_migratable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = sqlite_url(Path("data") / "nested" / "tokenpath.db")
    assert url == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'nested' / 'tokenpath.db'}"
    await asyncio.to_thread(upgrade, url)  # creates the missing directories
    database = await open_database(url)
    try:
        assert await _diff(database) == []
    finally:
        await database.close()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_sqlite_database_is_private_to_its_user(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)  # the usual default, which would give 0755 and 0644
    try:
        directory = tmp_path / "data"
        url = sqlite_url(directory / "tokenpath.db")
        await asyncio.to_thread(upgrade, url)
        assert _mode(directory / "tokenpath.db") == 0o600  # created so, not narrowed later
        database = await open_database(url)
        try:
            await database.stores.sessions.add(
                Session(session_hash="s", user_id="u", auth_time=0, expires_at=1)
            )  # the open connection keeps -wal and -shm in place
            files = sorted(directory.iterdir())
            assert {f.name for f in files} >= {"tokenpath.db", "tokenpath.db-wal"}
            assert _mode(directory) == 0o700
            assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
            assert check_database_permissions(url) == []
        finally:
            await database.close()
    finally:
        os.umask(old_umask)


async def test_readable_database_files_are_reported_and_ours_narrowed(tmp_path: Path) -> None:
    directory = tmp_path / "data"
    url = sqlite_url(directory / "tokenpath.db")
    await asyncio.to_thread(upgrade, url)
    database_file = directory / "tokenpath.db"
    database_file.chmod(0o644)
    directory.chmod(0o755)
    problems = check_database_permissions(url)
    assert len(problems) == 2
    assert f"{directory} is readable or writable by its group or others (mode 0755)" in problems[0]
    assert problems[0].endswith(f"chmod 700 {directory}")
    assert f"{database_file} is readable" in problems[1] and "(mode 0644)" in problems[1]
    assert problems[1].endswith(f"chmod 600 {database_file}")

    await asyncio.to_thread(upgrade, url)
    assert _mode(database_file) == 0o600  # our file: narrowed
    assert _mode(directory) == 0o755  # a directory with content may be shared on purpose
    assert check_database_permissions(url) == [problems[0]]


async def test_an_empty_directory_made_by_the_caller_is_narrowed(tmp_path: Path) -> None:
    directory = tmp_path / "made-by-mkdir"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)
    await asyncio.to_thread(upgrade, sqlite_url(directory / "tokenpath.db"))
    assert _mode(directory) == 0o700


def test_postgres_urls_have_no_file_permissions_to_check() -> None:
    assert check_database_permissions("postgresql+asyncpg://u@127.0.0.1/db") == []
    assert check_database_permissions("sqlite+aiosqlite:////nonexistent/dir/x.db") == []


def test_in_memory_sqlite_is_refused() -> None:
    with pytest.raises(ValueError, match="SQLite file"):
        upgrade("sqlite+aiosqlite:///:memory:")


@pytest.mark.postgres
async def test_postgres_schema_option_keeps_tables_in_that_schema(postgres_url: str) -> None:
    schema = f"tp_{secrets.token_hex(4)}"
    admin = await open_database(postgres_url)
    try:
        async with admin.engine.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        await admin.close()
    await asyncio.to_thread(upgrade, postgres_url, schema=schema)
    await asyncio.to_thread(upgrade, postgres_url, schema=schema)
    database = await open_database(postgres_url, schema=schema)
    try:
        assert await _diff(database) == []

        def tables(connection: Connection) -> set[str]:
            return set(inspect(connection).get_table_names(schema=schema))

        async with database.engine.connect() as connection:
            assert await connection.run_sync(tables) == TABLES | {"alembic_version"}
        await database.stores.sessions.delete("x")
    finally:
        await database.close()


async def test_one_code_across_several_engines_one_winner(db_url: str) -> None:
    """Four engines stand in for four server processes sharing the database."""
    databases = [await open_database(db_url, pool_size=5) for _ in range(4)]
    try:
        raw = secrets.token_urlsafe(32)
        await databases[0].stores.codes.add(
            AuthorizationCode(
                code_hash=hash_token(raw),
                grant_id="g",
                client_id="c",
                user_id="u",
                redirect_uri="https://app.example/cb",
                redirect_uri_in_request=False,
                scope=("a",),
                code_challenge=None,
                code_challenge_method=None,
                nonce=None,
                auth_time=1,
                issued_at=1,
                expires_at=100,
            )
        )
        results = await asyncio.gather(
            *(databases[i % 4].stores.codes.consume(hash_token(raw), 50) for i in range(20))
        )
        assert sum(r is not None for r in results) == 1
    finally:
        for database in databases:
            await database.close()


@pytest.mark.postgres
async def test_a_dropped_postgres_connection_is_replaced_transparently(postgres_url: str) -> None:
    """A database restart kills pooled connections; the next statement still succeeds."""
    database = await open_database(postgres_url)
    admin = await open_database(postgres_url)
    try:
        assert await database.stores.clients.get("nobody") is None  # opens the pool
        async with admin.engine.connect() as connection:
            killed = await connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            assert any(row[0] for row in killed)
        assert await database.stores.clients.get("nobody") is None
        with pytest.raises(IntegrityError):  # errors keep SQLAlchemy's types
            for _ in range(2):
                await database.stores.sessions.add(
                    Session(session_hash="s", user_id="u", auth_time=0, expires_at=1)
                )
    finally:
        await admin.close()
        await database.close()
