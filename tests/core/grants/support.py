"""Steps the grant tests share: a redeemable code, its token request, a refresh, and one
successful request per token-endpoint grant."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tests.core.conftest import CB, VERIFIER, Harness, basic
from tokenpath.core.messages import JsonResponse
from tokenpath.core.records import Client, ClientType, GrantType

CODE_AND_REFRESH = (GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN)


async def confidential(harness: Harness, **options: object) -> tuple[str, str, str]:
    """A confidential code-flow client, its secret, and a fresh code issued to it."""
    client, secret = await harness.client(**options)
    assert secret is not None
    session = await harness.session()
    code = await harness.code(client, session)
    return client.client_id, secret, code


def redeem_form(code: str, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CB,
        "code_verifier": VERIFIER,
        **extra,
    }


async def start(
    harness: Harness, kind: ClientType = ClientType.PUBLIC
) -> tuple[str, str | None, dict[str, object]]:
    """A client with refresh tokens, its secret (None if public), and its first token response."""
    client, secret = await harness.client(kind=kind, grant_types=CODE_AND_REFRESH)
    response = await harness.redeem(client, secret, await harness.session())
    assert response.status == 200 and "refresh_token" in response.body
    return client.client_id, secret, dict(response.body)


async def use(
    harness: Harness, client_id: str, secret: str | None, token: object, **extra: str
) -> JsonResponse:
    """Present a refresh token (RFC 6749 §6)."""
    form = {
        "grant_type": "refresh_token",
        "refresh_token": str(token),
        "client_id": client_id,
        **extra,
    }
    return await harness.token(form, basic(client_id, secret) if secret else None)


Scenario = tuple[Client, str | None, dict[str, str]]


async def code_request(harness: Harness) -> Scenario:
    client, secret = await harness.client(grant_types=CODE_AND_REFRESH)
    code = await harness.code(client, await harness.session())
    return client, secret, {"code": code, "redirect_uri": CB, "code_verifier": VERIFIER}


async def refresh_request(harness: Harness) -> Scenario:
    client_id, secret, body = await start(harness)
    client = await harness.ctx.stores.clients.get(client_id)
    assert client is not None
    return client, secret, {"refresh_token": str(body["refresh_token"]), "scope": "openid"}


async def machine_request(harness: Harness) -> Scenario:
    client, secret = await harness.client(
        grant_types=[GrantType.CLIENT_CREDENTIALS], redirect_uris=[]
    )
    return client, secret, {"scope": "notes:read"}


SUCCESSFUL_REQUEST: dict[str, Callable[[Harness], Awaitable[Scenario]]] = {
    GrantType.AUTHORIZATION_CODE: code_request,
    GrantType.REFRESH_TOKEN: refresh_request,
    GrantType.CLIENT_CREDENTIALS: machine_request,
}
"""For each token-endpoint grant: a client and the parameters of a request it answers with
tokens. A new grant's row needs an entry here; the registry and metadata tests look for one."""


async def token_request(harness: Harness, grant_type: str, scenario: Scenario) -> JsonResponse:
    """Send ``scenario`` as a ``grant_type`` request, authenticated as its client."""
    client, secret, params = scenario
    form = {"grant_type": grant_type, **params}
    if secret is None:
        form["client_id"] = client.client_id
    return await harness.token(form, basic(client.client_id, secret) if secret else None)
