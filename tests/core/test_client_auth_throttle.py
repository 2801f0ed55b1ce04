"""Client-authentication throttle: per known id, one shared bucket for unknown ids, no big keys."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from tests.core.conftest import Harness, basic, make_ctx
from tokenpath.core.client_auth import authenticate_client
from tokenpath.core.errors import InvalidClient, SlowDown
from tokenpath.core.messages import ClientCredentials
from tokenpath.core.ports import Stores
from tokenpath.core.records import GrantType
from tokenpath.storage.sql import models as m
from tokenpath.storage.sql import open_database

pytestmark = pytest.mark.anyio

FORM = {"grant_type": "client_credentials"}


def post(client_id: str, secret: str | None = "guess") -> ClientCredentials:
    method = "none" if secret is None else "client_secret_post"
    return ClientCredentials(client_id=client_id, client_secret=secret, method=method)


async def test_unknown_ids_share_one_bucket(harness: Harness) -> None:
    limit = harness.ctx.policy.client_auth_failures_per_minute
    for n in range(limit):
        with pytest.raises(InvalidClient) as failed:
            await authenticate_client(post(f"invented-{n}"), harness.ctx)
        assert failed.value.status == 401
    with pytest.raises(SlowDown):
        await authenticate_client(post("invented-new"), harness.ctx)
    assert len(harness.ctx.stores.rate_limits.rows) == 1  # type: ignore[attr-defined]
    # A known client's failures are its own.
    client, _ = await harness.client(grant_types=[GrantType.CLIENT_CREDENTIALS], redirect_uris=[])
    with pytest.raises(InvalidClient) as failed:
        await authenticate_client(post(client.client_id), harness.ctx)
    assert failed.value.status == 401


async def test_a_correct_secret_is_accepted_while_failures_are_throttled(harness: Harness) -> None:
    client, secret = await harness.client(
        grant_types=[GrantType.CLIENT_CREDENTIALS],
        redirect_uris=[],
        token_endpoint_auth_method="client_secret_post",
    )
    assert secret is not None
    for _ in range(harness.ctx.policy.client_auth_failures_per_minute):
        with pytest.raises(InvalidClient):
            await authenticate_client(post(client.client_id), harness.ctx)
    with pytest.raises(SlowDown):
        await authenticate_client(post(client.client_id), harness.ctx)
    assert await authenticate_client(post(client.client_id, secret), harness.ctx) == client


async def test_a_12_kb_client_id_is_invalid_client_and_stores_nothing_of_its_size(
    db_url: str, stores: Stores
) -> None:
    harness = Harness(make_ctx(stores))
    huge = "c" * 12_000
    response = await harness.token(FORM, basic(huge, "guess"))
    assert response.status == 401 and response.body["error"] == "invalid_client"
    # In the body, parameter parsing refuses it first (no storage is reached at all).
    body = await harness.token({**FORM, "client_id": huge, "client_secret": "guess"})
    assert body.status == 400 and body.body["error"] == "invalid_request"
    database = await open_database(db_url)
    try:
        longest = await database.executor.one(select(func.max(func.length(m.rate_limits.c.key))))
        rows = await database.executor.one(select(func.count()).select_from(m.rate_limits))
    finally:
        await database.close()
    assert longest is not None and longest[0] == 64
    assert rows is not None and rows[0] == 1  # counted in the one unknown-id bucket


async def test_concurrent_failures_are_counted_atomically(stores: Stores) -> None:
    harness = Harness(make_ctx(stores))
    client, _ = await harness.client(grant_types=[GrantType.CLIENT_CREDENTIALS], redirect_uris=[])
    limit = harness.ctx.policy.client_auth_failures_per_minute

    async def attempt() -> int:
        try:
            await authenticate_client(post(client.client_id), harness.ctx)
        except SlowDown:
            return 429
        except InvalidClient as error:
            return error.status
        return 200

    statuses = await asyncio.gather(*(attempt() for _ in range(limit + 20)))
    assert statuses.count(401) == limit and statuses.count(429) == 20
