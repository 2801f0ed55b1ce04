"""Independent clients against the real server: Authlib and requests-oauthlib drive the code flow,
and N simultaneous HTTP redemptions of one code let exactly one through."""

from __future__ import annotations

import concurrent.futures
import re
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from requests_oauthlib import OAuth2Session as OAuthlibSession

from tests.e2e.conftest import PASSWORD, Stack


def _hidden_fields(html: str) -> dict[str, str]:
    return {
        unescape(name): unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html)
    }


def browser_approves(http: requests.Session, authorization_url: str, stack: Stack) -> str:
    """What a person does in the browser, done with a plain HTTP session: sign in, allow.

    Returns the URL the authorization server finally redirects to (the client's callback)."""
    login_page = http.get(authorization_url)
    assert login_page.status_code == 200 and "Sign in" in login_page.text
    form = _hidden_fields(login_page.text) | {"username": "alice", "password": PASSWORD}
    consent = http.post(f"{stack.issuer}/login", data=form, allow_redirects=True)
    assert consent.status_code == 200 and "decision" in consent.text
    decision = _hidden_fields(consent.text) | {"decision": "approve"}
    final = http.post(f"{stack.issuer}/consent", data=decision, allow_redirects=False)
    assert final.status_code == 303
    location: str = final.headers["Location"]
    return location


def test_authlib_client_code_flow_with_pkce(stack: Stack) -> None:
    client = OAuth2Session(
        client_id=stack.client_id("webapp"),
        client_secret=stack.secret("webapp"),
        scope="openid notes:read",
        redirect_uri=f"{stack.webapp}/callback",
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    verifier = generate_token(64)
    url, state = client.create_authorization_url(
        f"{stack.issuer}/authorize", code_verifier=verifier
    )
    callback = browser_approves(requests.Session(), url, stack)
    assert parse_qs(urlsplit(callback).query)["iss"] == [stack.issuer]
    token = client.fetch_token(
        f"{stack.issuer}/token",
        authorization_response=callback,
        code_verifier=verifier,
        state=state,
    )
    assert token["token_type"] == "Bearer" and token["refresh_token"]
    me = client.get(f"{stack.api}/api/me")
    assert me.status_code == 200 and me.json()["client_id"] == stack.client_id("webapp")
    # refresh and revocation, unmodified library calls
    renewed = client.refresh_token(f"{stack.issuer}/token", refresh_token=token["refresh_token"])
    assert renewed["refresh_token"] != token["refresh_token"]
    revoked = client.revoke_token(f"{stack.issuer}/revoke", token=renewed["refresh_token"])
    assert revoked.status_code == 200
    again = requests.post(
        f"{stack.issuer}/token",
        data={"grant_type": "refresh_token", "refresh_token": renewed["refresh_token"]},
        auth=(stack.client_id("webapp"), stack.secret("webapp")),
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_requests_oauthlib_code_flow(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    # oauthlib refuses http unless told; the whole exchange stays on loopback (RFC 8252 §8.3)
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    client = OAuthlibSession(
        stack.client_id("webapp"),
        redirect_uri=f"{stack.webapp}/callback",
        scope=["openid", "notes:read"],
        pkce="S256",
    )
    url, _state = client.authorization_url(f"{stack.issuer}/authorize")
    callback = browser_approves(requests.Session(), url, stack)
    token = client.fetch_token(
        f"{stack.issuer}/token",
        authorization_response=callback,
        client_secret=stack.secret("webapp"),
        include_client_id=False,
    )
    assert token["access_token"].count(".") == 2
    assert client.get(f"{stack.api}/api/notes").status_code == 200


def test_twenty_simultaneous_redemptions_over_http(stack: Stack) -> None:
    client = OAuth2Session(
        client_id=stack.client_id("webapp"),
        client_secret=stack.secret("webapp"),
        scope="openid",
        redirect_uri=f"{stack.webapp}/callback",
        code_challenge_method="S256",
    )
    verifier = generate_token(64)
    url, _ = client.create_authorization_url(f"{stack.issuer}/authorize", code_verifier=verifier)
    code = parse_qs(urlsplit(browser_approves(requests.Session(), url, stack)).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": f"{stack.webapp}/callback",
    }
    auth = (stack.client_id("webapp"), stack.secret("webapp"))

    def redeem(_: int) -> httpx.Response:
        return httpx.post(f"{stack.issuer}/token", data=form, auth=auth, timeout=30)

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        responses: list[Any] = list(pool.map(redeem, range(20)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [400] * 19, statuses
    assert {r.json()["error"] for r in responses if r.status_code == 400} == {"invalid_grant"}
    # the replays revoked what the winner got: introspection says inactive
    winner = next(r for r in responses if r.status_code == 200).json()
    introspected = httpx.post(
        f"{stack.issuer}/introspect", data={"token": winner["access_token"]}, auth=auth
    )
    assert introspected.json() == {"active": False}


def test_oauthlib_mobile_application_client_parses_the_implicit_fragment(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oauthlib.oauth2 import MobileApplicationClient

    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # loopback only

    client = MobileApplicationClient(stack.client_id("spa-implicit"))
    url = client.prepare_request_uri(
        f"{stack.issuer}/authorize",
        redirect_uri=f"{stack.spa}/",
        scope=["openid", "notes:read"],
        state="st-1",
    )
    callback = browser_approves(requests.Session(), url, stack)
    assert urlsplit(callback).query == ""  # nothing in the query: the token rides in the fragment
    token = client.parse_request_uri_response(callback, state="st-1")
    assert token["token_type"] == "Bearer" and int(token["expires_in"]) == 300
    assert "refresh_token" not in token
    me = httpx.get(
        f"{stack.api}/api/me", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert me.json()["grant_type"] == "implicit"
