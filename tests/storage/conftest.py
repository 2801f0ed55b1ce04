"""Storage fixtures: the same port contract, pinned on every adapter.

``any_stores`` adds the dict-backed reference adapter to the SQLite and PostgreSQL cases of the
top-level ``db_url``, so a behaviour the core relies on cannot differ between the adapter core
tests run on and the ones servers run on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tokenpath.core.ports import Stores
from tokenpath.storage.sql import open_database


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def any_stores(request: pytest.FixtureRequest) -> AsyncIterator[Stores]:
    """A fresh, empty ``Stores`` bundle from each adapter."""
    if request.param == "memory":
        memory = pytest.importorskip("tokenpath.storage.memory")
        yield memory.memory_stores()
        return
    url: str = request.getfixturevalue(f"{request.param}_url")
    database = await open_database(url)
    try:
        yield database.stores
    finally:
        await database.close()
