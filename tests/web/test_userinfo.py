"""``/userinfo`` over HTTP: GET and POST, RFC 6750 challenges, CORS for configured origins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.conftest import Harness, basic
from tests.web.conftest import Server, forms, serve
from tokenpath.core.records import GrantType
from tokenpath.core.registration import update_user_claims
from tokenpath.storage.memory import memory_stores

pytestmark = pytest.mark.anyio

SPA = "http://127.0.0.1:9003"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
BARE = 'Bearer realm="tokenpath"'


@pytest.fixture
async def cors_server() -> AsyncIterator[Server]:
    async for s in serve(memory_stores(), cors_origins=[SPA]):
        yield s


async def access_token(server: Server, scopes: str = "openid profile email") -> str:
    """A token from the code flow for alice, who has a name and a verified email."""
    harness = Harness(server.ctx)
    client, secret = await harness.client(scopes=scopes)
    session = await harness.session()
    claims = {"name": "Alice", "email": "alice@example.com", "email_verified": True}
    await update_user_claims(server.ctx, "alice", claims)
    response = await harness.redeem(client, secret, session)
    assert response.status == 200, response.body
    return str(response.body["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def challenge(response: httpx.Response) -> str:
    return response.headers["www-authenticate"]


async def test_get_with_a_bearer_token(server: Server) -> None:
    token = await access_token(server)
    response = await server.http.get("/userinfo", headers=bearer(token))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    body = response.json()
    assert body == {
        "sub": body["sub"],
        "name": "Alice",
        "email": "alice@example.com",
        "email_verified": True,
    }
    user = await server.ctx.stores.users.get_by_username("alice")
    assert user is not None and body["sub"] == user.user_id


async def test_post_with_the_token_in_the_header_or_the_form(server: Server) -> None:
    token = await access_token(server)
    in_header = await server.http.post("/userinfo", headers=bearer(token))
    assert in_header.status_code == 200 and in_header.json()["name"] == "Alice"
    in_form = await server.post_form("/userinfo", [("access_token", token)])
    assert in_form.status_code == 200 and in_form.json() == in_header.json()
    both = await server.post_form("/userinfo", [("access_token", token)], **bearer(token))
    assert both.status_code == 400 and both.json()["error"] == "invalid_request"
    assert challenge(both).startswith(BARE + ', error="invalid_request"')


async def test_post_body_must_be_form_encoded(server: Server) -> None:
    token = await access_token(server)
    response = await server.http.post(
        "/userinfo",
        content=f'{{"access_token": "{token}"}}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert challenge(response).startswith(BARE + ', error="invalid_request"')


async def test_no_token_is_401_with_a_bare_challenge(server: Server) -> None:
    for response in (await server.http.get("/userinfo"), await server.http.post("/userinfo")):
        assert response.status_code == 401 and challenge(response) == BARE
        assert response.headers["cache-control"] == "no-store"
        assert "error" not in response.json()


async def test_a_token_in_the_query_is_refused(server: Server) -> None:
    token = await access_token(server)
    response = await server.http.get("/userinfo?" + urlencode({"access_token": token}))
    assert response.status_code == 401 and response.json()["error"] == "invalid_request"
    assert challenge(response).startswith(BARE + ', error="invalid_request"')
    assert token not in response.text


async def test_an_invalid_token_is_401_invalid_token(server: Server) -> None:
    response = await server.http.get("/userinfo", headers=bearer("forged.token.value"))
    assert response.status_code == 401
    assert challenge(response) == (
        'Bearer realm="tokenpath", error="invalid_token", '
        'error_description="the access token is not active"'
    )
    assert response.json() == {
        "error": "invalid_token",
        "error_description": "the access token is not active",
    }


async def test_a_token_without_openid_is_403_insufficient_scope(server: Server) -> None:
    token = await access_token(server, scopes="profile notes:read")
    response = await server.http.get("/userinfo", headers=bearer(token))
    assert response.status_code == 403 and response.json()["error"] == "insufficient_scope"
    assert challenge(response).startswith(BARE + ', error="insufficient_scope"')
    assert challenge(response).endswith('scope="openid"')


async def test_a_client_credentials_token_is_401_invalid_token(server: Server) -> None:
    harness = Harness(server.ctx)
    client, secret = await harness.client(
        redirect_uris=(), scopes="openid", grant_types=(GrantType.CLIENT_CREDENTIALS,)
    )
    assert secret is not None
    minted = await server.post_form(
        "/token",
        [("grant_type", "client_credentials")],
        Authorization=basic(client.client_id, secret),
    )
    assert minted.status_code == 200, minted.text
    response = await server.http.get("/userinfo", headers=bearer(minted.json()["access_token"]))
    assert response.status_code == 401 and 'error="invalid_token"' in challenge(response)


async def test_other_methods_are_405_in_json(server: Server) -> None:
    response = await server.http.put("/userinfo")
    assert response.status_code == 405 and response.json()["error"] == "invalid_request"
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, POST"


async def test_cors_preflight_allows_get_post_and_authorization(cors_server: Server) -> None:
    allowed = await cors_server.http.options(
        "/userinfo",
        headers={
            "Origin": SPA,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == SPA
    assert allowed.headers["access-control-allow-methods"] == "GET, POST"
    assert "Authorization" in allowed.headers["access-control-allow-headers"]
    other = await cors_server.http.options(
        "/userinfo",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert not [h for h in other.headers if h.startswith("access-control-")]


async def test_cors_answers_carry_the_origin_and_expose_the_challenge(
    cors_server: Server,
) -> None:
    token = await access_token(cors_server)
    ok = await cors_server.http.get("/userinfo", headers={**bearer(token), "Origin": SPA})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == SPA
    refused = await cors_server.http.get("/userinfo", headers={"Origin": SPA})
    assert refused.status_code == 401 and refused.headers["access-control-allow-origin"] == SPA
    assert refused.headers["access-control-expose-headers"] == "WWW-Authenticate"
    evil = await cors_server.http.get(
        "/userinfo", headers={**bearer(token), "Origin": "https://evil.example"}
    )
    assert evil.status_code == 200
    assert not [h for h in evil.headers if h.startswith("access-control-")]


async def test_consent_page_describes_the_openid_connect_scopes(server: Server) -> None:
    await server.user()
    client, _ = await server.client(scopes=("openid", "profile", "email", "address", "phone"))
    await server.sign_in()
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uris[0],
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    page = await server.http.get("/authorize?" + urlencode(query))
    assert page.status_code == 200 and forms(page.text)[0].action == "/consent"
    for text in (
        "Read your profile: name",
        "Read your email address and whether it is verified",
        "Read your postal address",
        "Read your phone number and whether it is verified",
    ):
        assert text in page.text


@pytest.fixture
async def signed_in(server: Server) -> tuple[Server, str]:
    """One server and one valid token, shared by every example of a hypothesis test."""
    return server, await access_token(server)


TEXT = st.text(max_size=40) | st.sampled_from(["@token", "Bearer @token", "a b", "=", ""])


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    method=st.sampled_from(["GET", "POST"]),
    authorization=st.lists(TEXT, max_size=2),
    form=st.lists(st.tuples(st.sampled_from(["access_token", "x", ""]), TEXT), max_size=3),
    query=st.lists(st.tuples(st.sampled_from(["access_token", "scope"]), TEXT), max_size=2),
    content_type=st.sampled_from([None, "application/x-www-form-urlencoded", "text/plain"]),
)
async def test_hostile_requests_get_a_challenge_never_a_5xx(
    signed_in: tuple[Server, str],
    method: str,
    authorization: list[str],
    form: list[tuple[str, str]],
    query: list[tuple[str, str]],
    content_type: str | None,
) -> None:
    """Whatever arrives: JSON, ``no-store``, and a Bearer challenge on every refusal."""
    server, token = signed_in

    def real(value: str) -> str:
        return value.replace("@token", token)

    headers = [("Authorization", real(v)) for v in authorization if v.isascii()]
    if content_type:
        headers.append(("Content-Type", content_type))
    body = urlencode([(k, real(v)) for k, v in form]).encode() if method == "POST" else b""
    url = "/userinfo?" + urlencode([(k, real(v)) for k, v in query])
    response = await server.http.request(method, url, headers=headers, content=body)
    assert response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    if response.status_code == 200:
        assert response.json()["name"] == "Alice"
        return
    assert challenge(response).startswith(BARE)
    if challenge(response) != BARE:
        assert response.json()["error"] in ("invalid_request", "invalid_token")
