"""The FastAPI adapter beyond the sample: its OAuth 2 scheme, its body without ``install``, and
``requires_scope`` on a FastAPI endpoint that takes the request by keyword (it used to 500).

No ``from __future__ import annotations``: FastAPI reads the endpoints' annotations at run time.
"""

from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import FastAPI, Request, Security
from starlette.middleware import Middleware

from tests.resource.support import AUDIENCE, TokenIssuer
from tokenpath.core.clock import FixedClock
from tokenpath.resource import AccessToken, BearerAuthMiddleware, JwtValidator, requires_scope
from tokenpath.resource.fastapi import TokenAuth

pytestmark = pytest.mark.anyio


@pytest.fixture
def validator(issuer: TokenIssuer, clock: FixedClock) -> JwtValidator:
    return JwtValidator(issuer=issuer.url, audience=AUDIENCE, jwks_uri=issuer.jwks_uri, clock=clock)


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test")


@pytest.fixture
async def middleware_app(validator: JwtValidator) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI(middleware=[Middleware(BearerAuthMiddleware, validator=validator, realm="n")])

    @app.get("/notes")
    @requires_scope("notes:read")
    async def notes(request: Request, limit: int = 3) -> dict[str, object]:
        return {"sub": request.state.access_token.subject, "limit": limit}

    async with client(app) as http:
        yield http


async def test_requires_scope_on_a_fastapi_endpoint(
    middleware_app: httpx.AsyncClient, issuer: TokenIssuer
) -> None:
    ok = await middleware_app.get(
        "/notes?limit=7", headers={"Authorization": f"Bearer {issuer.sign()}"}
    )
    assert ok.status_code == 200 and ok.json() == {"sub": "alice", "limit": 7}
    refused = await middleware_app.get(
        "/notes", headers={"Authorization": f"Bearer {issuer.sign(scope='other')}"}
    )
    assert refused.status_code == 403 and refused.json()["error"] == "insufficient_scope"
    assert (await middleware_app.get("/notes")).status_code == 401


async def test_requires_scope_needs_the_request_among_the_arguments() -> None:
    @requires_scope("x")
    async def no_request(limit: int) -> None: ...

    with pytest.raises(TypeError, match="receive the request"):
        await no_request(limit=1)


async def test_an_oauth2_scheme_with_scopes_for_the_docs_page(
    validator: JwtValidator, issuer: TokenIssuer
) -> None:
    auth = TokenAuth(
        validator, scheme_name="notes-login", authorization_url=f"{issuer.url}/authorize",
        token_url=f"{issuer.url}/token", scopes={"notes:read": "Read your notes"},
    )  # fmt: skip
    app = FastAPI()

    @app.get("/notes")
    async def notes(token: Annotated[AccessToken, Security(auth, scopes=["notes:read"])]) -> str:
        return token.subject

    async with client(app) as http:
        schema = (await http.get("/openapi.json")).json()
        refused = await http.get("/notes")
        ok = await http.get("/notes", headers={"Authorization": f"Bearer {issuer.sign()}"})
    assert schema["components"]["securitySchemes"]["notes-login"] == {
        "type": "oauth2",
        "flows": {
            "authorizationCode": {
                "authorizationUrl": f"{issuer.url}/authorize",
                "tokenUrl": f"{issuer.url}/token",
                "scopes": {"notes:read": "Read your notes"},
            }
        },
    }
    assert schema["paths"]["/notes"]["get"]["security"] == [{"notes-login": ["notes:read"]}]
    # without install() FastAPI wraps the body in "detail"; the challenge is the same
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == (
        'Bearer realm="tokenpath", DPoP realm="tokenpath", algs="ES256 EdDSA RS256 PS256"'
    )
    assert refused.json() == {"detail": {"error_description": "this API needs an access token"}}
    assert ok.status_code == 200 and ok.json() == "alice"


def test_an_oauth2_scheme_needs_both_urls(validator: JwtValidator) -> None:
    with pytest.raises(ValueError, match="both"):
        TokenAuth(validator, token_url="https://as.example/token")
