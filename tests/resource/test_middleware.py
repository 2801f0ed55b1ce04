"""RFC 6750 on the wire: token extraction, challenges, and the three ways a route states its needs.

The app under test is a small Starlette API of its own (not the demo), so the library is shown
to work for any ASGI API: function endpoints, ``HTTPEndpoint`` methods, a raw ASGI sub-app.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.endpoints import HTTPEndpoint
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from tests.resource.support import AUDIENCE, TokenIssuer
from tokenpath.core.clock import FixedClock
from tokenpath.resource import (
    BearerAuthMiddleware,
    JwtValidator,
    RequireScope,
    TokenValidator,
    check_access,
    requires_scope,
)

pytestmark = pytest.mark.anyio
REALM = "notes"


async def open_endpoint(request: Request) -> Response:
    token = request.state.access_token
    return JSONResponse({"sub": token.subject if token else None})


@requires_scope()
async def any_token(request: Request) -> Response:
    return JSONResponse({"sub": request.state.access_token.subject})


@requires_scope("notes:read", "notes:write")
async def both(request: Request) -> Response:
    return PlainTextResponse("both")


class Notes(HTTPEndpoint):
    @requires_scope("notes:read")
    async def get(self, request: Request) -> Response:
        return PlainTextResponse("read")


async def raw_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "websocket":
        websocket = WebSocket(scope, receive, send)
        await websocket.accept()
        await websocket.send_text(scope["state"]["access_token"].subject)
        await websocket.close()
        return
    await PlainTextResponse("raw")(scope, receive, send)


async def by_hand(request: Request) -> Response:
    outcome = check_access(request.scope, "notes:read")
    if isinstance(outcome, Response):
        return outcome
    return PlainTextResponse(f"hello {outcome.subject}")


def make_app(validator: TokenValidator, realm: str = REALM) -> Starlette:
    return Starlette(
        routes=[
            Route("/open", open_endpoint),
            Route("/any", any_token),
            Route("/both", both),
            Route("/notes", Notes),
            Route("/by-hand", by_hand),
            Mount("/raw", RequireScope(raw_app, "notes:read")),
        ],
        middleware=[Middleware(BearerAuthMiddleware, validator=validator, realm=realm, dpop=False)],
    )


@pytest.fixture
def validator(issuer: TokenIssuer, clock: FixedClock) -> JwtValidator:
    return JwtValidator(issuer=issuer.url, audience=AUDIENCE, jwks_uri=issuer.jwks_uri, clock=clock)


@pytest.fixture
async def api(validator: JwtValidator) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app(validator))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def challenge_of(response: httpx.Response) -> str:
    assert response.headers["cache-control"] == "no-store"
    value: str = response.headers["www-authenticate"]
    return value


@pytest.mark.parametrize("path", ["/any", "/both", "/notes", "/by-hand", "/raw/"])
async def test_no_token_gets_a_bare_challenge(api: httpx.AsyncClient, path: str) -> None:
    """RFC 6750 §3.1: a request without credentials gets no error code."""
    response = await api.get(path)
    assert response.status_code == 401
    assert challenge_of(response) == f'Bearer realm="{REALM}"'
    assert "error" not in response.json() and response.json()["error_description"]


@pytest.mark.parametrize(
    ("path", "scope", "status", "body"),
    [
        ("/any", "", 200, {"sub": "alice"}),
        ("/open", "", 200, {"sub": "alice"}),
        ("/both", "notes:read notes:write", 200, "both"),
        ("/notes", "notes:read", 200, "read"),
        ("/by-hand", "notes:read", 200, "hello alice"),
        ("/raw/", "notes:read", 200, "raw"),
        ("/both", "notes:read", 403, None),
        ("/notes", "notes:write", 403, None),
        ("/by-hand", "profile", 403, None),
        ("/raw/", "", 403, None),
    ],
)
async def test_scopes(
    api: httpx.AsyncClient, issuer: TokenIssuer, path: str, scope: str, status: int, body: Any
) -> None:
    response = await api.get(path, headers=bearer(issuer.sign(scope=scope)))
    assert response.status_code == status
    if status == 200:
        assert (response.json() if isinstance(body, dict) else response.text) == body
        return
    header = challenge_of(response)
    assert header.startswith(f'Bearer realm="{REALM}", error="insufficient_scope", ')
    needed = {"/both": "notes:read notes:write"}.get(path, "notes:read")
    assert header.endswith(f'scope="{needed}"')
    assert response.json()["error"] == "insufficient_scope" and response.json()["scope"] == needed


@pytest.mark.parametrize(
    ("claims", "header", "description"),
    [
        ({"exp": 1}, {}, "the access token has expired"),
        ({"iss": "https://evil.example"}, {}, "the access token was issued by another issuer"),
        ({"aud": "https://other.example"}, {}, "the access token is not meant for this API"),
        ({}, {"typ": "JWT"}, "the token is not an access token (typ must be at+jwt)"),
    ],
)
async def test_invalid_tokens_get_invalid_token(
    api: httpx.AsyncClient,
    issuer: TokenIssuer,
    claims: dict[str, Any],
    header: dict[str, Any],
    description: str,
) -> None:
    response = await api.get("/any", headers=bearer(issuer.sign(header=header, **claims)))
    assert response.status_code == 401
    assert challenge_of(response) == (
        f'Bearer realm="{REALM}", error="invalid_token", error_description="{description}"'
    )
    assert response.json() == {"error": "invalid_token", "error_description": description}


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
async def test_the_scheme_is_case_insensitive(
    api: httpx.AsyncClient, issuer: TokenIssuer, scheme: str
) -> None:
    response = await api.get("/any", headers={"Authorization": f"{scheme} {issuer.sign()}"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "value",
    ["Bearer", "Bearer ", "Bearer a b", 'Bearer a"b', "Bearer a,b", "Bearer =abc", "Bearer é"],
)
async def test_a_malformed_bearer_value_is_invalid_request(
    api: httpx.AsyncClient, value: str
) -> None:
    response = await api.get("/any", headers=[(b"Authorization", value.encode("utf-8"))])
    assert response.status_code == 400
    assert 'error="invalid_request"' in challenge_of(response)
    assert response.json()["error"] == "invalid_request"


async def test_two_authorization_headers_are_invalid_request(
    api: httpx.AsyncClient, issuer: TokenIssuer
) -> None:
    token = issuer.sign()
    response = await api.get(
        "/any", headers=[("Authorization", f"Bearer {token}"), ("Authorization", f"Bearer {token}")]
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


async def test_other_schemes_are_no_bearer_token(api: httpx.AsyncClient) -> None:
    response = await api.get("/any", headers={"Authorization": "Basic YWxpY2U6c2VjcmV0"})
    assert response.status_code == 401 and challenge_of(response) == f'Bearer realm="{REALM}"'


@pytest.mark.parametrize(
    "query", ["access_token={t}", "a=1&access_token={t}", "access%5Ftoken={t}"]
)
async def test_a_query_token_is_refused_even_when_valid(
    api: httpx.AsyncClient, issuer: TokenIssuer, query: str
) -> None:
    """RFC 9700 §4.3.2 / OAuth 2.1: tokens in URLs leak; catalog A8.3 demands a 401."""
    token = issuer.sign()
    response = await api.get(f"/any?{query.format(t=token)}")
    assert response.status_code == 401
    header = challenge_of(response)
    assert header.startswith(f'Bearer realm="{REALM}", error="invalid_request", ')
    assert "URI query" in response.json()["error_description"]
    # the same token in the header works, and in both places at once is a malformed request
    assert (await api.get("/any", headers=bearer(token))).status_code == 200
    both = await api.get(f"/any?{query.format(t=token)}", headers=bearer(token))
    assert both.status_code == 400 and both.json()["error"] == "invalid_request"
    # a route without needs is not disturbed, and the query token was never validated
    opened = await api.get(f"/open?{query.format(t=token)}")
    assert opened.status_code == 200 and opened.json() == {"sub": None}


async def test_the_realm_is_quoted_safely(validator: JwtValidator) -> None:
    transport = httpx.ASGITransport(app=make_app(validator, realm='my "api"\\'))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        response = await client.get("/any")
    assert response.headers["www-authenticate"] == 'Bearer realm="my api"'


async def test_a_guard_without_the_middleware_fails_closed_and_loudly() -> None:
    app = Starlette(routes=[Route("/any", any_token)])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        with pytest.raises(RuntimeError, match="BearerAuthMiddleware"):
            await client.get("/any")


async def test_websockets_behind_require_scope(
    issuer: TokenIssuer, validator: JwtValidator
) -> None:
    """A handshake cannot carry the challenge; one lacking the scope is closed with 1008."""
    app = BearerAuthMiddleware(RequireScope(raw_app, "notes:read"), validator, realm=REALM)

    async def handshake(token: str) -> list[dict[str, Any]]:
        incoming = [{"type": "websocket.connect"}]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return incoming.pop(0) if incoming else {"type": "websocket.disconnect", "code": 1000}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "websocket",
            "path": "/",
            "query_string": b"",
            "headers": [(b"authorization", f"Bearer {token}".encode())],
        }
        await app(scope, receive, send)  # type: ignore[arg-type]
        return sent

    allowed = await handshake(issuer.sign())
    assert [m["type"] for m in allowed] == ["websocket.accept", "websocket.send", "websocket.close"]
    assert allowed[1]["text"] == "alice"
    assert await handshake(issuer.sign(scope="")) == [{"type": "websocket.close", "code": 1008}]
