"""requests-oauthlib, unmodified, against the real server: ``OAuth2Session`` with PKCE S256, the
token request authenticated with the client secret, then userinfo through the same session.

requests-oauthlib does not read discovery or validate ID tokens itself; it takes the endpoints
from the discovery document and checks ``state`` on the callback. oauthlib refuses plain http
unless ``OAUTHLIB_INSECURE_TRANSPORT`` is set: the whole exchange stays on loopback (RFC 8252 §8.3).
"""

from __future__ import annotations

import pytest
import requests
from requests_oauthlib import OAuth2Session

from tests.interop.conftest import CLAIMS, SCOPES, Server
from tests.interop.signin import sign_in_and_allow


def test_pkce_client_secret_and_userinfo(
    sqlite_server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = sqlite_server
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    metadata = requests.get(f"{server.issuer}/.well-known/openid-configuration", timeout=30).json()
    session = OAuth2Session(
        server.client_id("requests-oauthlib"),
        redirect_uri=server.redirect_uri("requests-oauthlib"),
        scope=SCOPES,
        pkce="S256",
    )
    url, _state = session.authorization_url(metadata["authorization_endpoint"])
    assert "code_challenge_method=S256" in url
    callback = sign_in_and_allow(url, server.issuer)
    token = session.fetch_token(
        metadata["token_endpoint"],
        authorization_response=callback,
        client_secret=server.secret("requests-oauthlib"),
    )
    assert token["token_type"].lower() == "bearer" and token["id_token"].count(".") == 2
    assert sorted(token["scope"]) == sorted(SCOPES)
    userinfo = session.get(metadata["userinfo_endpoint"], timeout=30)
    assert userinfo.status_code == 200, userinfo.text
    body = userinfo.json()
    assert body["sub"] == server.user_id
    assert {k: body[k] for k in CLAIMS} == CLAIMS
