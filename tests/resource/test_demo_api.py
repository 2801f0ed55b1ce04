"""The demo API through its real ASGI stack: RFC 6750 challenges, scopes, CORS, bearer semantics."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.resource.test_tokens import AUDIENCE, ISSUER, Issuer
from tests.support.servers import serve_asgi
from tokenpath.core.clock import FixedClock
from tokenpath.resource import JwksCache, JwtValidator, create_demo_api

pytestmark = pytest.mark.anyio
SPA = "http://127.0.0.1:9003"


@pytest.fixture(scope="module")
def issuer() -> Iterator[tuple[Issuer, str]]:
    issuer = Issuer()

    async def jwks(request: Request) -> JSONResponse:
        return JSONResponse(issuer.jwks())

    with serve_asgi(Starlette(routes=[Route("/jwks", jwks)])) as url:
        yield issuer, f"{url}/jwks"


@pytest.fixture
def api(issuer: tuple[Issuer, str]) -> httpx.AsyncClient:
    clock = FixedClock(1_700_000_100)
    validator = JwtValidator(
        issuer=ISSUER, audience=AUDIENCE, clock=clock, jwks=JwksCache(issuer[1], clock=clock)
    )
    app = create_demo_api(validator, cors_origins=[SPA])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_me_and_bearer_semantics(api: httpx.AsyncClient, issuer: tuple[Issuer, str]) -> None:
    token = issuer[0].sign()
    response = await api.get("/api/me", headers=bearer(token))
    assert response.status_code == 200 and response.json()["sub"] == "alice"
    # anyone holding the token can call: a different client, no cookies, no other proof
    async with httpx.AsyncClient(
        transport=api._transport, base_url="http://elsewhere.test"
    ) as other:
        assert (await other.get("/api/me", headers=bearer(token))).json()["sub"] == "alice"


async def test_missing_token_challenge_has_no_error_code(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="tokenpath-demo-api"'
    assert response.headers["cache-control"] == "no-store"


async def test_invalid_token(api: httpx.AsyncClient, issuer: tuple[Issuer, str]) -> None:
    response = await api.get("/api/me", headers=bearer(issuer[0].sign(exp=1_700_000_000)))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert response.json()["error"] == "invalid_token"


async def test_insufficient_scope(api: httpx.AsyncClient, issuer: tuple[Issuer, str]) -> None:
    token = issuer[0].sign(scope="openid")
    response = await api.get("/api/notes", headers=bearer(token))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    assert 'scope="notes:read"' in response.headers["www-authenticate"]
    write = await api.post("/api/notes", headers=bearer(issuer[0].sign()), json={"text": "hi"})
    assert write.status_code == 403


async def test_notes_read_write(api: httpx.AsyncClient, issuer: tuple[Issuer, str]) -> None:
    token = issuer[0].sign(scope="notes:read notes:write", sub="bob")
    created = await api.post("/api/notes", headers=bearer(token), json={"text": "buy milk"})
    assert created.status_code == 201
    listed = await api.get("/api/notes", headers=bearer(token))
    assert "buy milk" in [n["text"] for n in listed.json()["notes"]]
    other = await api.get("/api/notes", headers=bearer(issuer[0].sign(sub="carol")))
    assert "buy milk" not in [n["text"] for n in other.json()["notes"]]
    for bad in ({"text": ""}, {"text": "x" * 501}, {"nope": 1}, [1]):
        assert (await api.post("/api/notes", headers=bearer(token), json=bad)).status_code == 400
    garbage = await api.post(
        "/api/notes", headers={**bearer(token), "Content-Type": "application/json"}, content=b"\xff"
    )
    assert garbage.status_code == 400


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer a b"},
        {"Authorization": 'Bearer a"b'},
        {"Authorization": "Bearer "},
    ],
)
async def test_malformed_authorization_is_invalid_request(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await api.get("/api/me", headers=headers)
    assert (
        response.status_code == 400
        and 'error="invalid_request"' in response.headers["www-authenticate"]
    )


async def test_two_headers_and_other_schemes(
    api: httpx.AsyncClient, issuer: tuple[Issuer, str]
) -> None:
    token = issuer[0].sign()
    two = await api.get(
        "/api/me",
        headers=[("Authorization", f"Bearer {token}"), ("Authorization", f"Bearer {token}")],
    )
    assert two.status_code == 400
    basic = await api.get("/api/me", headers={"Authorization": "Basic YTpi"})
    assert basic.status_code == 401 and "error=" not in basic.headers["www-authenticate"]


async def test_query_string_tokens_are_refused(
    api: httpx.AsyncClient, issuer: tuple[Issuer, str]
) -> None:
    """Catalog A8.3: a valid token in ?access_token= never authorizes (RFC 9700 §4.3.2)."""
    token = issuer[0].sign()
    response = await api.get("/api/me", params={"access_token": token})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    both = await api.get("/api/me", params={"access_token": token}, headers=bearer(token))
    assert both.status_code == 400


async def test_cors_only_for_the_configured_origin(api: httpx.AsyncClient) -> None:
    preflight = {
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }
    ok = await api.options("/api/me", headers={"Origin": SPA, **preflight})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == SPA
    evil = await api.options("/api/me", headers={"Origin": "http://127.0.0.1:6666", **preflight})
    assert "access-control-allow-origin" not in evil.headers
    assert (await api.get("/api/health")).json() == {"status": "ok"}
