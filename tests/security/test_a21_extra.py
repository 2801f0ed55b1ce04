"""Catalog A21: the cheap extra checks of RFC 9700 (§2.6, §4.2, §4.17).

* no CORS on the authorization endpoint (§2.6): it is a browser navigation, never a fetch;
* metadata is published and consistent (§2.6; RFC 8414 §3.3, OpenID Connect Discovery §4);
* postMessage responses (§4.17) are not offered, so no ``targetOrigin`` can be wrong;
* error redirects carry only ``error``, ``error_description``, ``state`` and ``iss`` (§4.2).
"""

from __future__ import annotations

import pytest

from tests.security.conftest import CONF_CB, ISSUER, Lab, location_params, redirect_base

pytestmark = pytest.mark.anyio

ERROR_FIELDS = {"error", "error_description", "state", "iss"}


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
async def test_a21_no_cors_on_the_authorization_endpoint(lab: Lab, signed_in: bool) -> None:
    if signed_in:
        await lab.sign_in()
    origin = {"Origin": "https://evil.example"}
    get = await lab.http.get("/authorize", params=lab.authorize_params("conf"), headers=origin)
    preflight = await lab.http.options(
        "/authorize",
        headers={**origin, "Access-Control-Request-Method": "GET"},
    )
    for response in (get, preflight):
        assert not [h for h in response.headers if h.startswith("access-control-")]


async def test_a21_rfc8414_metadata_is_published_and_consistent(lab: Lab) -> None:
    response = await lab.http.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    metadata = response.json()
    assert metadata["issuer"] == ISSUER  # RFC 8414 §3.3: identical to the issuer
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        assert metadata[name].startswith(ISSUER + "/"), name
    assert (await lab.http.get(metadata["jwks_uri"].removeprefix(ISSUER))).status_code == 200
    assert metadata["response_types_supported"] and metadata["grant_types_supported"]


async def test_a21_openid_configuration_matches_rfc8414_metadata(lab: Lab) -> None:
    oidc = await lab.http.get("/.well-known/openid-configuration")
    assert oidc.status_code == 200
    document = oidc.json()
    metadata = await lab.metadata()
    for name in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
        assert document[name] == metadata[name], name
    assert "userinfo_endpoint" in document and "id_token_signing_alg_values_supported" in document


async def test_a21_postmessage_response_mode_is_not_offered(lab: Lab) -> None:
    assert "web_message" not in (await lab.metadata())["response_modes_supported"]
    await lab.sign_in()
    response = await lab.authz("conf", response_mode="web_message")
    assert response.status_code == 302 and redirect_base(response) == CONF_CB
    assert location_params(response)["error"] == "invalid_request"


@pytest.mark.parametrize(
    "change",
    [
        {"scope": "unknown", "code_verifier": "leak", "client_secret": "leak"},
        {"response_type": "bogus", "password": "leak"},
        {"code_challenge_method": "plain", "login_hint": "alice"},
        {"prompt": "none consent", "nonce": "leak"},
    ],
    ids=["scope", "response_type", "pkce", "prompt"],
)
async def test_a21_error_redirects_echo_nothing_else(lab: Lab, change: dict[str, str]) -> None:
    await lab.sign_in()
    response = await lab.authz("conf", **change)
    assert response.status_code == 302
    params = location_params(response)
    assert "error" in params and set(params) <= ERROR_FIELDS
    assert "leak" not in response.headers["location"]
