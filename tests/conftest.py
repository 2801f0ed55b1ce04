"""Shared fixtures: real databases for every storage-touching test.

* ``db_url`` is parametrised over SQLite (a temp file) and PostgreSQL (the server at
  127.0.0.1:5432). Each PostgreSQL test gets its own database, cloned from a template that the
  migrations built once per run, so tests are isolated and URLs stay plain.
* Without PostgreSQL a local run skips those cases with the reason; with ``CI=true`` it fails.
* ``stores`` opens the migrated database of ``db_url`` and yields its ``Stores`` bundle.
* ``password_hasher`` is the real argon2id hasher with cheap parameters (tests stay fast).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import secrets
from collections.abc import AsyncIterator, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tokenpath.core.ports import Stores
from tokenpath.storage.passwords import Argon2PasswordHasher
from tokenpath.storage.sql import open_database, upgrade

T = TypeVar("T")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


def require_service(reason: str) -> None:
    """Skip locally, fail in CI: CI must run every test."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


async def _admin(*statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN, timeout=5)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def run_blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even where a loop is already running
    (Playwright's sync API keeps one in the main thread)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _pg(*statements: str) -> None:
    run_blocking(_admin(*statements))


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A migrated database used as the template for each test's own database."""
    try:
        _pg("SELECT 1")
    except (OSError, Exception) as error:
        require_service(f"PostgreSQL not reachable at 127.0.0.1:5432 (database test): {error}")
    name = f"tp_tpl_{secrets.token_hex(4)}"
    _pg(f'CREATE DATABASE "{name}"')
    upgrade(PG_URL.format(name=name))
    yield name
    _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url(postgres_template: str) -> Iterator[str]:
    name = f"tp_{secrets.token_hex(6)}"
    _pg(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"')
    yield PG_URL.format(name=name)
    _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'tokenpath.db'}"
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty database of each kind."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
async def stores(db_url: str) -> AsyncIterator[Stores]:
    database = await open_database(db_url)
    try:
        yield database.stores
    finally:
        await database.close()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def password_hasher() -> Argon2PasswordHasher:
    """argon2id at t=1, m=1 MiB: the production code path, a fraction of the production cost."""
    return Argon2PasswordHasher(time_cost=1, memory_cost=1024)
