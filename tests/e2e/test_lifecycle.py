"""Token lifecycle against the real server: client credentials, theft of a rotated refresh
token, revocation seen by a resource server that introspects (RFC 6749 §4.4, §6; RFC 7009;
RFC 7662; RFC 9700 §4.14.2)."""

from __future__ import annotations

from typing import Any

import httpx
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from tests.e2e.conftest import Stack
from tests.e2e.test_interop import browser_approves
from tests.support.servers import serve_asgi
from tokenpath.resource import IntrospectionValidator, create_demo_api


def machine(stack: Stack) -> OAuth2Session:
    return OAuth2Session(
        client_id=stack.client_id("machine"),
        client_secret=stack.secret("machine"),
        scope="notes:read",
    )


def user_tokens(stack: Stack) -> tuple[OAuth2Session, dict[str, Any]]:
    client = OAuth2Session(
        client_id=stack.client_id("webapp"),
        client_secret=stack.secret("webapp"),
        scope="openid notes:read",
        redirect_uri=f"{stack.webapp}/callback",
        code_challenge_method="S256",
    )
    verifier = generate_token(64)
    url, state = client.create_authorization_url(
        f"{stack.issuer}/authorize", code_verifier=verifier
    )
    callback = browser_approves(requests.Session(), url, stack)
    token = client.fetch_token(
        f"{stack.issuer}/token",
        authorization_response=callback,
        code_verifier=verifier,
        state=state,
    )
    return client, dict(token)


def introspect(stack: Stack, token: str) -> dict[str, Any]:
    response = httpx.post(
        f"{stack.issuer}/introspect",
        data={"token": token},
        auth=stack.api_credentials,  # the API the tokens are for: entitled to learn of them
    )
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    return body


def test_client_credentials_with_authlib(stack: Stack) -> None:
    token = machine(stack).fetch_token(f"{stack.issuer}/token", grant_type="client_credentials")
    assert token["scope"] == "notes:read" and "refresh_token" not in token
    me = httpx.get(
        f"{stack.api}/api/me", headers={"Authorization": f"Bearer {token['access_token']}"}
    ).json()
    assert me["sub"] == stack.client_id("machine") and me["grant_type"] == "client_credentials"
    assert introspect(stack, token["access_token"])["gty"] == "client_credentials"


def test_stolen_refresh_token_used_after_rotation_revokes_the_family(stack: Stack) -> None:
    client, first = user_tokens(stack)
    stolen = first["refresh_token"]  # the attacker copies it
    second = client.refresh_token(
        f"{stack.issuer}/token", refresh_token=stolen
    )  # the client rotates
    assert introspect(stack, second["access_token"])["active"] is True
    theft = httpx.post(
        f"{stack.issuer}/token",
        data={"grant_type": "refresh_token", "refresh_token": stolen},
        auth=(stack.client_id("webapp"), stack.secret("webapp")),
    )
    assert theft.status_code == 400 and theft.json()["error"] == "invalid_grant"
    # the whole family is dead: the legitimate client's tokens too
    assert introspect(stack, second["access_token"]) == {"active": False}
    assert introspect(stack, second["refresh_token"]) == {"active": False}
    legit = httpx.post(
        f"{stack.issuer}/token",
        data={"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
        auth=(stack.client_id("webapp"), stack.secret("webapp")),
    )
    assert legit.json()["error"] == "invalid_grant"


def test_resource_server_by_introspection_honours_revocation(stack: Stack) -> None:
    validator = IntrospectionValidator(
        introspection_endpoint=f"{stack.issuer}/introspect",
        client_id=stack.api_credentials[0],
        client_secret=stack.api_credentials[1],
        audience=stack.api,
        issuer=stack.issuer,
        cache_seconds=0,
    )
    _, tokens = user_tokens(stack)
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    with serve_asgi(create_demo_api(validator)) as api:
        assert httpx.get(f"{api}/api/notes", headers=bearer).status_code == 200
        revoked = httpx.post(
            f"{stack.issuer}/revoke",
            data={"token": tokens["access_token"]},
            auth=(stack.client_id("webapp"), stack.secret("webapp")),
        )
        assert revoked.status_code == 200
        after = httpx.get(f"{api}/api/notes", headers=bearer)
        assert (
            after.status_code == 401
            and 'error="invalid_token"' in after.headers["www-authenticate"]
        )
    # a resource server validating the JWT locally cannot see revocation before exp (documented)
    assert httpx.get(f"{stack.api}/api/me", headers=bearer).status_code == 200
