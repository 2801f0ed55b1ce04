"""Protocol flows on the SQL stores, with real concurrency (issue: single use under load)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import Row, select

from tests.core.conftest import CB, VERIFIER, Harness, basic, make_ctx
from tokenpath.core.clock import hash_token
from tokenpath.core.login import login
from tokenpath.core.ports import Stores
from tokenpath.core.records import ClientType, GrantType
from tokenpath.core.registration import create_user
from tokenpath.storage.sql import open_database
from tokenpath.storage.sql.models import metadata

pytestmark = pytest.mark.anyio


def sql_harness(stores: Stores) -> Harness:
    return Harness(make_ctx(stores))


async def test_twenty_concurrent_redemptions_one_winner(stores: Stores) -> None:
    harness = sql_harness(stores)
    client, secret = await harness.client()
    assert secret is not None
    session = await harness.session()
    code = await harness.code(client, session)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CB,
        "code_verifier": VERIFIER,
    }
    auth = basic(client.client_id, secret)
    responses = await asyncio.gather(*(harness.token(form, auth) for _ in range(20)))
    statuses = sorted(r.status for r in responses)
    assert statuses.count(200) == 1 and statuses.count(400) == 19
    assert all(r.body["error"] == "invalid_grant" for r in responses if r.status == 400)
    stored = await stores.codes.get(hash_token(code))
    assert stored is not None and stored.consumed_at is not None
    # the losers were replays: the grant is revoked, so the winner's token is dead too
    grant = await stores.grants.get(stored.grant_id)
    assert grant is not None and grant.revoked_at is not None


async def test_code_flow_and_refresh_reuse_on_sql(stores: Stores) -> None:
    harness = sql_harness(stores)
    client, _ = await harness.client(
        kind=ClientType.PUBLIC, grant_types=[GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN]
    )
    session = await harness.session()
    assert await stores.sessions.get(session.session_hash, harness.clock.now()) == session
    first = await harness.redeem(client, None, session)
    assert first.status == 200
    refresh_form = {
        "grant_type": "refresh_token",
        "client_id": client.client_id,
        "refresh_token": str(first.body["refresh_token"]),
    }
    racing = await asyncio.gather(*(harness.token(refresh_form) for _ in range(10)))
    assert sum(r.status == 200 for r in racing) <= 1
    # whatever the race did, presenting the old token again kills the family
    assert (await harness.token(refresh_form)).body["error"] == "invalid_grant"
    for r in racing:
        if r.status == 200:
            again = dict(refresh_form, refresh_token=str(r.body["refresh_token"]))
            assert (await harness.token(again)).body["error"] == "invalid_grant"


async def test_failed_requests_leave_storage_unchanged(stores: Stores) -> None:
    harness = sql_harness(stores)
    client, secret = await harness.client()
    assert secret is not None
    session = await harness.session()
    code = await harness.code(client, session)
    before = await stores.codes.get(hash_token(code))
    bad = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CB + "/",
        "code_verifier": VERIFIER,
    }
    assert (await harness.token(bad, basic(client.client_id, secret))).status == 400
    assert await stores.codes.get(hash_token(code)) == before
    assert before is not None and (await stores.grants.get(before.grant_id)).revoked_at is None  # type: ignore[union-attr]


async def test_no_secret_reaches_the_database_in_the_clear(db_url: str, stores: Stores) -> None:
    """Dump every row after a full flow: codes, tokens, secrets, session ids appear only hashed."""
    harness = sql_harness(stores)
    client, secret = await harness.client(
        grant_types=[GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN]
    )
    assert secret is not None
    await create_user(ctx=harness.ctx, username="bob", password="correct horse battery")
    signed_in = await login("bob", "correct horse battery", ctx=harness.ctx)
    assert isinstance(signed_in, tuple)
    session_id, session = signed_in
    code = await harness.code(client, session)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CB,
        "code_verifier": VERIFIER,
    }
    issued = await harness.token(form, basic(client.client_id, secret))
    assert issued.status == 200
    secrets_seen = [
        secret,
        "correct horse battery",
        session_id,
        code,
        str(issued.body["refresh_token"]),
        str(issued.body["access_token"]),
    ]
    database = await open_database(db_url)
    try:
        rows: list[Row[Any]] = []
        async with database.engine.connect() as connection:
            for table in metadata.sorted_tables:
                rows += (await connection.execute(select(table))).all()
        dump = " ".join(repr(tuple(row)) for row in rows)
    finally:
        await database.close()
    assert hash_token(code) in dump and hash_token(session_id) in dump  # the check can see rows
    assert [s for s in secrets_seen if s in dump] == []
