"""The API and revocation-feed ports on every adapter: memory, SQLite, PostgreSQL.

The feed relies on ids that only grow and on a cursor that resumes exactly after what a reader
has seen, across processes (here: two database connections).
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from tokenpath.core.ports import Stores
from tokenpath.core.records import Api, ApiScope, RevocationEvent
from tokenpath.storage.sql import open_database
from tokenpath.storage.sql.maintenance import purge_expired

pytestmark = pytest.mark.anyio
NOTES = "https://notes.example"
BILLING = "https://billing.example"


def api(identifier: str = NOTES, client_id: str = "c-notes") -> Api:
    return Api(
        identifier=identifier,
        scopes=(ApiScope(name=f"{client_id}:read", description="Read — «everything»"),),
        client_id=client_id,
        claims='{"tenant":"t"}',
        created_at=1,
    )


def event(audience: str = NOTES, *, jti: str | None = "j", exp: int = 100) -> RevocationEvent:
    grant_id = None if jti else "g"
    return RevocationEvent(
        audience=audience, jti=jti, grant_id=grant_id, expires_at=exp, created_at=1
    )


async def test_apis_by_identifier_and_credentials(any_stores: Stores) -> None:
    apis = any_stores.apis
    await apis.add(api())
    await apis.add(api(BILLING, "c-billing"))
    assert await apis.get(NOTES) == api()
    assert await apis.get_by_client("c-billing") == api(BILLING, "c-billing")
    assert await apis.get_by_client("nobody") is None
    changed = dataclasses.replace(api(), token_format="opaque", access_token_lifetime=60)
    await apis.update(changed)
    assert await apis.get(NOTES) == changed
    assert [a.identifier for a in await apis.list()] == [BILLING, NOTES]  # created_at, then id
    await apis.delete(NOTES)
    await apis.delete(NOTES)  # idempotent
    assert await apis.get(NOTES) is None


async def test_feed_pages_by_audience_and_cursor(any_stores: Stores) -> None:
    feed = any_stores.revocation_feed
    assert await feed.since(NOTES, 0, 0, 10, 10) == ([], 0)
    await feed.add([event(jti="a"), event(BILLING, jti="b"), event(jti=None)])
    page, cursor = await feed.since(NOTES, 0, 0, 10, 10)
    assert [(e.jti, e.grant_id) for e in page] == [("a", None), (None, "g")]
    assert page[0].event_id < page[1].event_id <= cursor
    assert await feed.since(NOTES, cursor, 0, 10, 10) == ([], cursor)
    await feed.add([event(jti="c")])
    later, after = await feed.since(NOTES, cursor, 0, 10, 10)
    assert [e.jti for e in later] == ["c"] and after > cursor
    first, partial = await feed.since(NOTES, 0, 0, 1, 10)  # a full page: resume after its last
    assert [e.jti for e in first] == ["a"] and partial == first[0].event_id
    unsettled, held = await feed.since(NOTES, 0, 0, 10, 1)  # written at 1: not settled before 1
    assert len(unsettled) == 3 and held == 0  # all sent, the cursor does not pass them
    await feed.add([dataclasses.replace(event(jti="late"), created_at=5)])
    _, stops = await feed.since(NOTES, 0, 0, 10, 5)
    assert stops == after  # stops before the entry written at 5
    assert (await feed.since(NOTES, 0, 100, 10, 10))[0] == []  # all expired at 100


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def test_feed_is_shared_and_purged(request: pytest.FixtureRequest, backend: str) -> None:
    url: str = request.getfixturevalue(f"{backend}_url")
    writer, reader = await open_database(url), await open_database(url)
    try:
        await asyncio.gather(
            *(writer.stores.revocation_feed.add([event(jti=f"j{i}", exp=50 + i)]) for i in range(5))
        )
        page, _ = await reader.stores.revocation_feed.since(NOTES, 0, 0, 100, 10)
        assert sorted(e.jti or "" for e in page) == [f"j{i}" for i in range(5)]
        counts = await purge_expired(writer.executor, 52)
        assert counts["revocation_events"] == 2  # exp 50 and 51
        left, _ = await reader.stores.revocation_feed.since(NOTES, 0, 0, 100, 10)
        assert len(left) == 3
    finally:
        await writer.close()
        await reader.close()


async def test_live_grants_of_a_client(any_stores: Stores) -> None:
    from tokenpath.core.records import Grant

    grants = any_stores.grants
    for i in range(3):
        await grants.add(
            Grant(grant_id=f"g{i}", client_id="c", user_id="u", scope=(), created_at=i)
        )
    await grants.add(Grant(grant_id="other", client_id="d", user_id="u", scope=(), created_at=0))
    await grants.revoke("g1", 5)
    live = await grants.list_live_by_client("c", 10)
    assert sorted(g.grant_id for g in live) == ["g0", "g2"]
    assert len(await grants.list_live_by_client("c", 1)) == 1
