"""OpenID Connect over real ASGI: discovery, ``prompt=login`` and ``login_hint`` as a browser and a
client see them."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.web.conftest import CB, PASSWORD, Server, forms
from tests.web.test_endpoints import VERIFIER, authorize_query, basic

pytestmark = pytest.mark.anyio
DISCOVERY = "/.well-known/openid-configuration"


def redirect_query(response: httpx.Response) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(response.headers["location"]).query))


async def test_openid_configuration_is_served_like_the_rfc8414_document(server: Server) -> None:
    """OIDC Discovery 1.0 §4: JSON at the well-known path, readable from any origin."""
    response = await server.http.get(DISCOVERY, headers={"Origin": "https://rp.example"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["access-control-allow-origin"] == "*"
    document = response.json()
    oauth = (await server.http.get("/.well-known/oauth-authorization-server")).json()
    assert {name: document[name] for name in oauth} == oauth
    issuer = server.settings.issuer
    assert document["issuer"] == issuer
    assert document["userinfo_endpoint"] == issuer + "/userinfo"
    assert document["id_token_signing_alg_values_supported"] == ["ES256"]
    assert document["subject_types_supported"] == ["public"]
    jwks = await server.http.get(document["jwks_uri"].removeprefix(issuer))
    assert jwks.status_code == 200 and jwks.json()["keys"]


async def sign_in_through(server: Server, login_page: httpx.Response) -> str:
    """Submit the sign-in form the AS showed; the URL it sends the browser back to."""
    assert login_page.status_code == 200 and "location" not in login_page.headers
    signed_in = await server.submit(forms(login_page.text)[0], username="alice", password=PASSWORD)
    assert signed_in.status_code == 303
    back: str = signed_in.headers["location"]
    assert back.startswith("/authorize?")
    return back


async def test_prompt_login_signs_in_again_and_does_not_loop(server: Server) -> None:
    """OIDC Core §3.1.2.1: a session exists, yet the login page is shown; after the fresh
    sign-in the request completes, and the ID token's auth_time is the new sign-in."""
    await server.user()
    client, secret = await server.client()
    assert secret is not None
    start = authorize_query(client.client_id, nonce="n-1")
    consent = await server.http.get(await sign_in_through(server, await server.http.get(start)))
    approved = await server.submit(forms(consent.text)[0], ("decision", "approve"))
    assert approved.status_code == 303 and "code" in redirect_query(approved)
    first_sign_in = server.clock.now()

    server.clock.advance(120)
    again = await server.http.get(authorize_query(client.client_id, nonce="n-2", prompt="login"))
    back = await sign_in_through(server, again)
    assert "prompt" not in dict(parse_qsl(urlsplit(back).query))
    done = await server.http.get(back)
    assert done.status_code == 302, done.text[:300]
    assert done.headers["location"].startswith(CB + "?")
    params = redirect_query(done)
    assert params["state"] == "s t+a/te" and params["iss"] == server.settings.issuer

    token = await server.post_form(
        "/token",
        [
            ("grant_type", "authorization_code"),
            ("code", params["code"]),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
        Authorization=basic(client.client_id, secret),
    )
    assert token.status_code == 200, token.text
    keys = KeySet.import_key_set((await server.http.get("/jwks")).json())
    claims = jwt.decode(token.json()["id_token"], keys, algorithms=["ES256"]).claims
    assert claims["auth_time"] == first_sign_in + 120
    assert claims["nonce"] == "n-2" and claims["aud"] == client.client_id


async def test_login_hint_prefills_the_user_name_escaped(server: Server) -> None:
    client, _ = await server.client()
    hint = 'alice"><script>x()</script>'
    page = await server.http.get(authorize_query(client.client_id, login_hint=hint))
    assert page.status_code == 200
    assert forms(page.text)[0].value("username") == hint
    assert "<script>x()" not in page.text
    plain = await server.http.get(authorize_query(client.client_id))
    assert forms(plain.text)[0].value("username") == ""
