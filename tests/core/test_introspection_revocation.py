"""Introspection (RFC 7662), revocation (RFC 7009) and client credentials (RFC 6749 §4.4)."""

from __future__ import annotations

import pytest

from tests.core.conftest import Harness, basic
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
    client, secret, body = await tokens(harness, access_token_format=fmt)
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


async def test_revocation_by_another_client_is_refused_and_changes_nothing(
    harness: Harness,
) -> None:
    client, secret, body = await tokens(harness)
    other, other_secret = await harness.client()
    assert other_secret is not None
    response = await call(
        revoke, harness, {"token": str(body["refresh_token"])}, basic(other.client_id, other_secret)
    )
    assert response.status == 400 and response.body["error"] == "invalid_request"
    auth = basic(client.client_id, secret)
    assert (await call(introspect, harness, {"token": str(body["refresh_token"])}, auth)).body[
        "active"
    ] is True
    missing_auth = await call(revoke, harness, {"token": str(body["refresh_token"])}, None)
    assert missing_auth.status == 401


class TestClientCredentials:
    async def test_machine_token(self, harness: Harness) -> None:
        client, secret = await harness.client(
            grant_types=[GrantType.CLIENT_CREDENTIALS],
            redirect_uris=[],
            scopes="notes:read notes:write",
        )
        assert secret is not None and client.response_types == ()
        response = await harness.token(
            {"grant_type": "client_credentials", "scope": "notes:read"},
            basic(client.client_id, secret),
        )
        assert response.status == 200 and response.body["scope"] == "notes:read"
        assert "refresh_token" not in response.body
        claims = await harness.ctx.signer.verify(str(response.body["access_token"]))
        assert claims is not None
        assert claims["sub"] == client.client_id and claims["gty"] == "client_credentials"
        assert "auth_time" not in claims
        wider = await harness.token(
            {"grant_type": "client_credentials", "scope": "openid"}, basic(client.client_id, secret)
        )
        assert wider.body["error"] == "invalid_scope"

    async def test_not_for_clients_without_the_grant(self, harness: Harness) -> None:
        client, secret = await harness.client()
        assert secret is not None
        response = await harness.token(
            {"grant_type": "client_credentials"}, basic(client.client_id, secret)
        )
        assert response.body["error"] == "unauthorized_client"


async def test_client_secret_guessing_is_throttled(harness: Harness) -> None:
    """Catalog A20: past 50 wrong secrets → 429 with Retry-After; the right secret still works."""
    client, secret = await harness.client(
        grant_types=[GrantType.CLIENT_CREDENTIALS], redirect_uris=[]
    )
    assert secret is not None
    form = {"grant_type": "client_credentials"}
    for _ in range(harness.ctx.policy.client_auth_failures_per_minute):
        wrong = await harness.token(form, basic(client.client_id, "guess"))
        assert (
            wrong.status == 401 and ("WWW-Authenticate", 'Basic realm="tokenpath"') in wrong.headers
        )
    blocked = await harness.token(form, basic(client.client_id, "guess"))
    assert blocked.status == 429 and blocked.body["error"] == "invalid_client"
    assert ("Retry-After", "2") in blocked.headers  # a token comes back every 60/50 s
    # Knowing a client id is not enough to lock the client out.
    assert (await harness.token(form, basic(client.client_id, secret))).status == 200
    assert (await harness.token(form, basic(client.client_id, "guess"))).status == 429
    harness.clock.advance(60)
    assert (await harness.token(form, basic(client.client_id, "guess"))).status == 401
