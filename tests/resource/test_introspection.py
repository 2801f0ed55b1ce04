"""Both validators against the real tokenpath authorization server on loopback uvicorn.

The server issues real RFC 9068 tokens (client credentials), publishes real metadata and JWKS,
answers introspection (RFC 7662) and revocation (RFC 7009). This pins the wiring the ``demo``
command uses: ``JwtValidator(issuer=..., audience=...)`` finds the keys by discovery.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from tests.support.apis import NOTES_SCOPES
from tests.support.servers import free_port, serve_asgi
from tokenpath.core.apis import add_api
from tokenpath.core.clock import FixedClock, SecretsTokenSource, SystemClock
from tokenpath.core.context import Context
from tokenpath.core.errors import InvalidToken
from tokenpath.core.records import ClientType, GrantType
from tokenpath.core.registration import register_client
from tokenpath.core.signing import Signer
from tokenpath.resource import AccessToken, IntrospectionValidator, JwtValidator, create_demo_api
from tokenpath.settings import Settings
from tokenpath.storage.memory import memory_stores
from tokenpath.storage.passwords import Argon2PasswordHasher
from tokenpath.web import create_app

pytestmark = pytest.mark.anyio
AUDIENCE = "http://127.0.0.1:9001"


@dataclass
class AuthorizationServer:
    url: str
    machine: tuple[str, str]  # a client-credentials client: it gets and revokes tokens
    api: tuple[str, str]  # the resource server's own credentials, for introspection

    async def token(self, scope: str = "notes:read") -> str:
        async with httpx.AsyncClient(auth=self.machine) as client:
            response = await client.post(
                f"{self.url}/token", data={"grant_type": "client_credentials", "scope": scope}
            )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    async def revoke(self, token: str) -> None:
        async with httpx.AsyncClient(auth=self.machine) as client:
            response = await client.post(f"{self.url}/revoke", data={"token": token})
        assert response.status_code == 200, response.text

    def introspection(self, **options: object) -> IntrospectionValidator:
        return IntrospectionValidator(
            introspection_endpoint=f"{self.url}/introspect",
            client_id=self.api[0],
            client_secret=self.api[1],
            audience=AUDIENCE,
            issuer=self.url,
            **options,  # type: ignore[arg-type]
        )


async def _client(ctx: Context, name: str) -> tuple[str, str]:
    client, secret = await register_client(
        ctx=ctx,
        name=name,
        client_type=ClientType.CONFIDENTIAL,
        redirect_uris=[],
        scopes=["notes:read", "notes:write"],
        grant_types=[GrantType.CLIENT_CREDENTIALS],
    )
    assert secret is not None
    return client.client_id, secret


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[AuthorizationServer]:
    port = free_port()
    settings = Settings(issuer=f"http://127.0.0.1:{port}", audience=AUDIENCE)
    stores, clock = memory_stores(), SystemClock()
    ctx = Context(
        policy=settings.policy(),
        stores=stores,
        clock=clock,
        random=SecretsTokenSource(),
        signer=Signer(stores.keys, clock),
        passwords=Argon2PasswordHasher(time_cost=1, memory_cost=8192),
    )
    notes, api_secret = await add_api(ctx, identifier=AUDIENCE, scopes=NOTES_SCOPES)
    machine, api = await _client(ctx, "machine"), (notes.client_id, api_secret)
    with serve_asgi(create_app(settings, ctx=ctx), port=port) as url:
        yield AuthorizationServer(url=url, machine=machine, api=api)


async def test_a_real_token_validates_locally_by_discovery(server: AuthorizationServer) -> None:
    token = await server.token("notes:read notes:write")
    validator = JwtValidator(issuer=server.url, audience=AUDIENCE)
    result = await validator.validate(token)
    assert isinstance(result, AccessToken), result
    assert result.subject == result.client_id == server.machine[0]
    assert result.scopes == {"notes:read", "notes:write"}
    assert result.claims["gty"] == "client_credentials"
    assert validator.jwks.jwks_uri == f"{server.url}/jwks"


async def test_the_demo_api_accepts_a_real_token(server: AuthorizationServer) -> None:
    validator = JwtValidator(issuer=server.url, audience=AUDIENCE, jwks_uri=f"{server.url}/jwks")
    transport = httpx.ASGITransport(app=create_demo_api(validator))
    async with httpx.AsyncClient(transport=transport, base_url=AUDIENCE) as api:
        token = await server.token()
        me = await api.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["grant_type"] == "client_credentials"
        write = await api.post(
            "/api/notes", headers={"Authorization": f"Bearer {token}"}, json={"text": "x"}
        )
        assert write.status_code == 403  # the token holds notes:read only


async def test_introspection_sees_revocation_local_validation_cannot(
    server: AuthorizationServer,
) -> None:
    token = await server.token()
    local = JwtValidator(issuer=server.url, audience=AUDIENCE)
    remote = server.introspection(cache_seconds=0)
    answer = await remote.validate(token)
    assert isinstance(answer, AccessToken) and answer.subject == server.machine[0]
    assert answer.scopes == {"notes:read"} and answer.token == token
    await server.revoke(token)
    revoked = await remote.validate(token)
    assert isinstance(revoked, InvalidToken) and "not active" in revoked.description
    # a JWT carries its own validity: until exp, only introspection knows it was revoked
    assert isinstance(await local.validate(token), AccessToken)


async def test_introspection_answers_are_cached_briefly(server: AuthorizationServer) -> None:
    clock = FixedClock(int(SystemClock().now()))
    remote = server.introspection(cache_seconds=5, clock=clock)
    token = await server.token()
    assert isinstance(await remote.validate(token), AccessToken)
    await server.revoke(token)
    assert isinstance(await remote.validate(token), AccessToken)  # within the cache delay
    clock.advance(5)
    assert isinstance(await remote.validate(token), InvalidToken)


async def test_introspection_failures_are_invalid_token_values(
    server: AuthorizationServer,
) -> None:
    wrong_secret = IntrospectionValidator(
        introspection_endpoint=f"{server.url}/introspect",
        client_id=server.api[0],
        client_secret="not-the-secret",
        audience=AUDIENCE,
        issuer=server.url,
    )
    result = await wrong_secret.validate(await server.token())
    assert isinstance(result, InvalidToken) and result.description == "introspection failed"
    unknown = await server.introspection().validate("no-such-token")
    assert isinstance(unknown, InvalidToken) and "not active" in unknown.description
    other_api = IntrospectionValidator(
        introspection_endpoint=f"{server.url}/introspect",
        client_id=server.api[0],
        client_secret=server.api[1],
        audience="https://other-api.example",
        issuer=server.url,
    )
    mismatch_iss = await IntrospectionValidator(
        introspection_endpoint=f"{server.url}/introspect",
        client_id=server.api[0],
        client_secret=server.api[1],
        audience=AUDIENCE,
        issuer="https://other-issuer.example",
    ).validate(await server.token())
    assert isinstance(mismatch_iss, InvalidToken) and "another issuer" in mismatch_iss.description
    with pytest.raises(TypeError):
        IntrospectionValidator(  # type: ignore[call-arg]
            introspection_endpoint=f"{server.url}/introspect", client_id="x", client_secret="y"
        )
    mismatch = await other_api.validate(await server.token())
    assert isinstance(mismatch, InvalidToken) and "not meant for this API" in mismatch.description
    down = IntrospectionValidator(
        introspection_endpoint=f"http://127.0.0.1:{free_port()}/introspect",
        client_id="x",
        client_secret="y",
        audience=AUDIENCE,
        issuer=server.url,
    )
    unreachable = await down.validate("anything")
    assert isinstance(unreachable, InvalidToken) and "could not be asked" in unreachable.description
