"""Introspection (RFC 7662) and revocation (RFC 7009)."""

from __future__ import annotations

import dataclasses

import pytest

from tests.core.conftest import Harness, basic
from tests.support.apis import api_credentials, ensure_api
from tokenpath.core.introspection import introspect
from tokenpath.core.messages import BackchannelRequest, JsonResponse
from tokenpath.core.records import Client, ClientType, GrantType
from tokenpath.core.revocation import revoke

pytestmark = pytest.mark.anyio
CODE_AND_REFRESH = (GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN)


async def call(endpoint, harness: Harness, form: dict[str, str], auth: str | None) -> JsonResponse:  # type: ignore[no-untyped-def]
    return await endpoint(
        BackchannelRequest(form=tuple(form.items()), authorization=auth), ctx=harness.ctx
    )  # type: ignore[no-any-return]


async def tokens(harness: Harness, **options: object) -> tuple[Client, str, dict[str, object]]:
    client, secret = await harness.client(grant_types=CODE_AND_REFRESH, **options)
    assert secret is not None
    response = await harness.redeem(client, secret, await harness.session())
    assert response.status == 200
    return client, secret, dict(response.body)


@pytest.mark.parametrize("fmt", ["jwt", "opaque"])
async def test_introspect_access_and_refresh_tokens(harness: Harness, fmt: str) -> None:
    api = await ensure_api(harness.ctx)
    await harness.ctx.stores.apis.update(dataclasses.replace(api, token_format=fmt))
    client, secret, body = await tokens(harness)
    assert (str(body["access_token"]).count(".") == 2) == (fmt == "jwt")
    auth = basic(client.client_id, secret)
    at = await call(introspect, harness, {"token": str(body["access_token"])}, auth)
    assert at.status == 200 and ("Cache-Control", "no-store") in at.headers
    assert at.body["active"] is True and at.body["client_id"] == client.client_id
    assert at.body["token_type"] == "Bearer" and at.body["scope"] == "openid profile notes:read"
    assert at.body["gty"] == "authorization_code"
    rt = await call(
        introspect,
        harness,
        {"token": str(body["refresh_token"]), "token_type_hint": "access_token"},
        auth,
    )
    assert rt.body["active"] is True and rt.body["token_type"] == "refresh_token"
    harness.clock.advance(600)
    expired = await call(introspect, harness, {"token": str(body["access_token"])}, auth)
    assert expired.body == {"active": False}


async def test_introspection_requires_confidential_client(harness: Harness) -> None:
    _, _, body = await tokens(harness)
    public, _ = await harness.client(kind=ClientType.PUBLIC)
    response = await call(
        introspect,
        harness,
        {"token": str(body["access_token"]), "client_id": public.client_id},
        None,
    )
    assert response.status == 401 and response.body["error"] == "invalid_client"
    unknown = await call(introspect, harness, {"token": "nonsense"}, basic("nobody", "x"))
    assert unknown.status == 401


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "", "eyJhbGciOiJub25lIn0.e30."])
async def test_unknown_tokens_are_inactive_and_revocable(harness: Harness, token: str) -> None:
    client, secret, _ = await tokens(harness)
    auth = basic(client.client_id, secret)
    if token == "":
        assert (await call(introspect, harness, {"token": token}, auth)).body[
            "error"
        ] == "invalid_request"
        return
    assert (await call(introspect, harness, {"token": token}, auth)).body == {"active": False}
    assert (
        await call(revoke, harness, {"token": token, "token_type_hint": "bogus"}, auth)
    ).status == 200


async def test_revoking_refresh_token_revokes_the_family(harness: Harness) -> None:
    client, secret, body = await tokens(harness)
    auth = basic(client.client_id, secret)
    response = await call(
        revoke,
        harness,
        {"token": str(body["refresh_token"]), "token_type_hint": "access_token"},
        auth,
    )
    assert response.status == 200 and response.body == {}
    for token in (body["access_token"], body["refresh_token"]):
        assert (await call(introspect, harness, {"token": str(token)}, auth)).body == {
            "active": False
        }


async def test_revoking_access_token_leaves_refresh_token(harness: Harness) -> None:
    client, secret, body = await tokens(harness)
    auth = basic(client.client_id, secret)
    assert (await call(revoke, harness, {"token": str(body["access_token"])}, auth)).status == 200
    assert (await call(introspect, harness, {"token": str(body["access_token"])}, auth)).body[
        "active"
    ] is False
    assert (await call(introspect, harness, {"token": str(body["refresh_token"])}, auth)).body[
        "active"
    ] is True


async def test_a_jwt_whose_grant_is_gone_is_inactive(harness: Harness) -> None:
    """JWTs are not stored; their ``grant_id`` claim ties them to the grant that must still be
    there (clean-up deletes dead grants, docs/decisions/0005)."""
    client, secret, body = await tokens(harness)
    auth = basic(client.client_id, secret)
    claims = await harness.ctx.signer.verify(str(body["access_token"]))
    assert claims is not None
    del harness.ctx.stores.grants.rows[claims["grant_id"]]  # type: ignore[attr-defined]
    response = await call(introspect, harness, {"token": str(body["access_token"])}, auth)
    assert response.body == {"active": False}


async def test_revocation_by_another_client_changes_nothing_and_reveals_nothing(
    harness: Harness,
) -> None:
    client, secret, body = await tokens(harness)
    other, other_secret = await harness.client()
    assert other_secret is not None
    response = await call(
        revoke, harness, {"token": str(body["refresh_token"])}, basic(other.client_id, other_secret)
    )
    garbage = await call(revoke, harness, {"token": "x" * 43}, basic(other.client_id, other_secret))
    assert (response.status, response.body) == (garbage.status, garbage.body) == (200, {})
    auth = basic(client.client_id, secret)
    assert (await call(introspect, harness, {"token": str(body["refresh_token"])}, auth)).body[
        "active"
    ] is True
    missing_auth = await call(revoke, harness, {"token": str(body["refresh_token"])}, None)
    assert missing_auth.status == 401


async def test_only_the_entitled_learn_that_a_token_is_live(harness: Harness) -> None:
    """RFC 7662 §4: the token's own client and the API it is for; anyone else sees inactive."""
    client, secret, body = await tokens(harness)
    machine, machine_secret = await harness.client(
        grant_types=[GrantType.CLIENT_CREDENTIALS], redirect_uris=[], scopes="notes:read"
    )
    assert machine_secret is not None
    api_id, api_secret = await api_credentials(harness.ctx)
    for token in (str(body["access_token"]), str(body["refresh_token"])):
        probe = await call(
            introspect, harness, {"token": token}, basic(machine.client_id, machine_secret)
        )
        assert probe.body == {"active": False}  # another client: nothing about the user
        own = await call(introspect, harness, {"token": token}, basic(client.client_id, secret))
        assert own.body["active"] is True and own.body["sub"]
    at = await call(
        introspect, harness, {"token": str(body["access_token"])}, basic(api_id, api_secret)
    )
    assert at.body["active"] is True and at.body["aud"] == harness.ctx.policy.audience
    # the API learns about access tokens for it, never about refresh tokens
    rt = await call(
        introspect, harness, {"token": str(body["refresh_token"])}, basic(api_id, api_secret)
    )
    assert rt.body == {"active": False}


async def test_an_apis_credentials_get_no_tokens(harness: Harness) -> None:
    api_id, api_secret = await api_credentials(harness.ctx)
    answer = await harness.token({"grant_type": "client_credentials"}, basic(api_id, api_secret))
    assert answer.body["error"] == "unauthorized_client"


async def test_an_api_cannot_revoke_the_tokens_it_may_introspect(harness: Harness) -> None:
    client, secret, body = await tokens(harness)
    api_id, api_secret = await api_credentials(harness.ctx)
    token = str(body["access_token"])
    refused = await call(revoke, harness, {"token": token}, basic(api_id, api_secret))
    assert refused.status == 200 and refused.body == {}
    still = await call(introspect, harness, {"token": token}, basic(client.client_id, secret))
    assert still.body["active"] is True
