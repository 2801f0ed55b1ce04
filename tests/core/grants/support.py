"""Steps the grant tests share: a redeemable code, the token request that redeems it, a refresh."""

from __future__ import annotations

from tests.core.conftest import CB, VERIFIER, Harness, basic
from tokenpath.core.messages import JsonResponse
from tokenpath.core.records import ClientType, GrantType

CODE_AND_REFRESH = (GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN)


async def confidential(harness: Harness) -> tuple[str, str, str]:
    """A confidential code-flow client, its secret, and a fresh code issued to it."""
    client, secret = await harness.client()
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
