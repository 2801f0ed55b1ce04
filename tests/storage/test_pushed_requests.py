"""The pushed request port on every adapter: memory, SQLite, PostgreSQL.

``/authorize`` relies on ``consume`` being atomic (RFC 9126 §4: a ``request_uri`` is used once,
by its own client, before it expires), and on the rows being shared by every process.
"""

from __future__ import annotations

import asyncio

import pytest

from tokenpath.core.clock import hash_token
from tokenpath.core.ports import Stores
from tokenpath.core.records import PushedRequest
from tokenpath.storage.sql import open_database
from tokenpath.storage.sql.maintenance import purge_expired

pytestmark = pytest.mark.anyio

URI = "urn:ietf:params:oauth:request_uri:abc"


def request(**changes: object) -> PushedRequest:
    values: dict[str, object] = {
        "uri_hash": hash_token(URI),
        "client_id": "c1",
        "parameters": '[["client_id", "c1"], ["response_type", "code"]]',
        "created_at": 40,
        "expires_at": 100,
    }
    values.update(changes)
    return PushedRequest(**values)  # type: ignore[arg-type]


async def test_taken_once_by_its_own_client(any_stores: Stores) -> None:
    requests = any_stores.pushed_requests
    await requests.add(request())
    assert await requests.consume(hash_token(URI), "c2", 50) is None  # another client: not spent
    assert await requests.consume(hash_token(URI), "c1", 50) == request(used_at=50)
    assert await requests.consume(hash_token(URI), "c1", 51) is None
    assert await requests.consume(hash_token("unknown"), "c1", 50) is None


async def test_never_taken_once_expired(any_stores: Stores) -> None:
    requests = any_stores.pushed_requests
    await requests.add(request())
    assert await requests.consume(hash_token(URI), "c1", 100) is None
    await requests.add(request(uri_hash=hash_token("other"), expires_at=101))
    assert await requests.consume(hash_token("other"), "c1", 100) is not None


async def test_concurrent_takers_get_it_once(any_stores: Stores) -> None:
    requests = any_stores.pushed_requests
    await requests.add(request())
    results = await asyncio.gather(
        *(requests.consume(hash_token(URI), "c1", 50) for _ in range(10))
    )
    assert sum(result is not None for result in results) == 1


async def test_another_process_sees_the_same_rows(db_url: str) -> None:
    """Two connections stand for two workers: one stores, the other takes, a third is refused."""
    first, second = await open_database(db_url), await open_database(db_url)
    try:
        await first.stores.pushed_requests.add(request())
        assert await second.stores.pushed_requests.consume(hash_token(URI), "c1", 50) is not None
        assert await first.stores.pushed_requests.consume(hash_token(URI), "c1", 50) is None
    finally:
        await first.close()
        await second.close()


async def test_clean_up_deletes_expired_requests(db_url: str) -> None:
    database = await open_database(db_url)
    try:
        await database.stores.pushed_requests.add(request())
        await database.stores.pushed_requests.add(request(uri_hash=hash_token("b"), expires_at=300))
        counts = await purge_expired(database.executor, 200)
        assert counts["pushed_requests"] == 1
        assert await database.stores.pushed_requests.consume(hash_token("b"), "c1", 200)
    finally:
        await database.close()
