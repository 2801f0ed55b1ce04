"""The refresh token grant: rotation, reuse detection, narrowing (RFC 6749 §6; RFC 9700 §4.14.2)."""

from __future__ import annotations

import asyncio

import pytest

from tests.core.conftest import CB, VERIFIER, Harness, basic
from tests.core.grants.support import CODE_AND_REFRESH, start, use
from tests.support.apis import api_credentials
from tokenpath.core.introspection import introspect
from tokenpath.core.messages import BackchannelRequest
from tokenpath.core.records import ClientType

pytestmark = pytest.mark.anyio


async def active(harness: Harness, token: object) -> bool:
    rs_id, rs_secret = await api_credentials(harness.ctx)  # the API the tokens are for
    form = (("token", str(token)),)
    response = await introspect(
        BackchannelRequest(form=form, authorization=basic(rs_id, rs_secret)), ctx=harness.ctx
    )
    return bool(response.body["active"])


async def test_rotation_then_reuse_revokes_the_family(harness: Harness) -> None:
    client_id, secret, first = await start(harness)
    second = await use(harness, client_id, secret, first["refresh_token"])
    assert second.status == 200
    assert second.body["refresh_token"] != first["refresh_token"]
    assert await active(harness, second.body["access_token"])
    # the stolen, already-rotated token is presented: refused, and the family dies
    replay = await use(harness, client_id, secret, first["refresh_token"])
    assert replay.body["error"] == "invalid_grant"
    assert (await use(harness, client_id, secret, second.body["refresh_token"])).body[
        "error"
    ] == "invalid_grant"
    assert not await active(harness, first["access_token"])
    assert not await active(harness, second.body["access_token"])


async def test_concurrent_use_lets_at_most_one_win(harness: Harness) -> None:
    client_id, secret, first = await start(harness)
    results = await asyncio.gather(
        *(use(harness, client_id, secret, first["refresh_token"]) for _ in range(10))
    )
    assert sum(r.status == 200 for r in results) <= 1
    assert all(r.body.get("error") == "invalid_grant" for r in results if r.status != 200)


async def test_scope_may_narrow_but_not_widen(harness: Harness) -> None:
    client_id, secret, first = await start(harness)
    wider = await use(
        harness, client_id, secret, first["refresh_token"], scope="openid notes:write"
    )
    assert wider.body["error"] == "invalid_scope"
    narrow = await use(harness, client_id, secret, first["refresh_token"], scope="openid")
    assert narrow.status == 200 and narrow.body["scope"] == "openid"
    # the family keeps the original grant: a later refresh may ask for it again
    again = await use(
        harness, client_id, secret, narrow.body["refresh_token"], scope="openid profile"
    )
    assert again.status == 200


async def test_another_clients_token_changes_nothing(harness: Harness) -> None:
    client_id, secret, first = await start(harness, kind=ClientType.CONFIDENTIAL)
    other, other_secret = await harness.client(grant_types=CODE_AND_REFRESH)
    stolen = await use(harness, other.client_id, other_secret, first["refresh_token"])
    assert stolen.body["error"] == "invalid_grant"
    assert (await use(harness, client_id, secret, first["refresh_token"])).status == 200


async def test_idle_and_absolute_expiry(harness: Harness) -> None:
    client_id, secret, first = await start(harness)
    harness.clock.advance(harness.ctx.policy.refresh_token_idle_lifetime)
    assert (await use(harness, client_id, secret, first["refresh_token"])).body[
        "error"
    ] == "invalid_grant"


async def test_absolute_lifetime_is_not_extended_by_rotation(harness: Harness) -> None:
    client_id, secret, body = await start(harness)
    token = body["refresh_token"]
    policy = harness.ctx.policy
    step = policy.refresh_token_idle_lifetime - 1
    elapsed = 0
    while elapsed + step < policy.refresh_token_lifetime:
        harness.clock.advance(step)
        elapsed += step
        response = await use(harness, client_id, secret, token)
        assert response.status == 200
        token = response.body["refresh_token"]
    harness.clock.advance(policy.refresh_token_lifetime - elapsed)
    assert (await use(harness, client_id, secret, token)).body["error"] == "invalid_grant"


async def test_client_not_allowed_refresh_gets_no_refresh_token(harness: Harness) -> None:
    client, secret = await harness.client()
    session = await harness.session()
    code = await harness.code(client, session)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CB,
        "code_verifier": VERIFIER,
    }
    assert secret is not None
    response = await harness.token(form, basic(client.client_id, secret))
    assert "refresh_token" not in response.body
    refused = await use(harness, client.client_id, secret, "whatever")
    assert refused.body["error"] == "unauthorized_client"
