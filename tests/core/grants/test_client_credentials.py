"""The client credentials grant (RFC 6749 §4.4): a machine's own token, never a refresh token."""

from __future__ import annotations

import dataclasses

import pytest

from tests.core.conftest import Harness, basic
from tests.support.apis import ensure_api
from tokenpath.core.records import GrantType

pytestmark = pytest.mark.anyio
MACHINE = {"grant_types": [GrantType.CLIENT_CREDENTIALS], "redirect_uris": []}


async def test_machine_token(harness: Harness) -> None:
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


async def test_not_for_clients_without_the_grant(harness: Harness) -> None:
    client, secret = await harness.client()
    assert secret is not None
    response = await harness.token(
        {"grant_type": "client_credentials"}, basic(client.client_id, secret)
    )
    assert response.body["error"] == "unauthorized_client"


async def test_without_scope_the_client_gets_its_default_scopes(harness: Harness) -> None:
    """RFC 6749 §3.3: no ``scope`` means the pre-defined default."""
    client, secret = await harness.client(scopes="notes:read notes:write", **MACHINE)
    assert secret is not None
    response = await harness.token(
        {"grant_type": "client_credentials"}, basic(client.client_id, secret)
    )
    assert response.status == 200 and response.body["scope"] == "notes:read notes:write"
    assert list(response.body) == ["access_token", "token_type", "expires_in", "scope"]


async def test_unknown_scope_is_refused(harness: Harness) -> None:
    client, secret = await harness.client(scopes="notes:read", **MACHINE)
    assert secret is not None
    response = await harness.token(
        {"grant_type": "client_credentials", "scope": "notes:read admin"},
        basic(client.client_id, secret),
    )
    assert (response.status, response.body["error"]) == (400, "invalid_scope")


@pytest.mark.parametrize("fmt", ["jwt", "opaque"])
async def test_token_format_follows_the_api(harness: Harness, fmt: str) -> None:
    """The API decides how its tokens look (it validates them); the client's own
    ``access_token_format`` applies only to tokens for ``/userinfo``."""
    client, secret = await harness.client(access_token_format="jwt", **MACHINE)
    assert secret is not None
    api = await ensure_api(harness.ctx)
    await harness.ctx.stores.apis.update(dataclasses.replace(api, token_format=fmt))
    response = await harness.token(
        {"grant_type": "client_credentials"}, basic(client.client_id, secret)
    )
    assert response.status == 200
    assert (str(response.body["access_token"]).count(".") == 2) == (fmt == "jwt")
