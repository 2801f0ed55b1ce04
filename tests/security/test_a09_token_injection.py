"""Catalog A9: access token injection through the implicit grant (RFC 9700 §4.6, §2.1.2).

Nothing at the AS can stop an injected implicit token, so tokenpath is code-only by default,
implicit is granted per client even when switched on, tokens travel only in the fragment and
never with a refresh token, and the metadata lists only the response types the policy allows.
OpenID Connect's ``id_token token`` binds the access token to an ID token by ``at_hash`` and
``nonce`` (OIDC Core §3.2.2.9-10), so a client that checks them detects an injected token.
"""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.security.conftest import CONF_CB, IMPLICIT_CB, ISSUER, Lab, redirect_base

pytestmark = pytest.mark.anyio

NO_PKCE = {"code_challenge": None, "code_challenge_method": None}


def fragment(location: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(location).fragment))


async def test_a09_1_implicit_is_off_by_default(lab: Lab) -> None:
    await lab.sign_in()
    response = await lab.authz("implicit", response_type="token", **NO_PKCE)
    assert response.status_code == 302 and redirect_base(response) == IMPLICIT_CB
    params = fragment(response.headers["location"])
    assert params["error"] == "unsupported_response_type" and "access_token" not in params
    assert "?" not in response.headers["location"]


async def test_a09_2_code_client_may_not_use_implicit(implicit_lab: Lab) -> None:
    lab = implicit_lab
    await lab.sign_in()
    response = await lab.authz("conf", response_type="token", **NO_PKCE)
    assert response.status_code == 302 and redirect_base(response) == CONF_CB
    location = response.headers["location"]
    assert urlsplit(location).query == ""  # the error is in the fragment
    params = fragment(location)
    assert params["error"] in ("unauthorized_client", "unsupported_response_type")
    assert "access_token" not in params and params["state"] == "st-conf"


async def test_a09_3_implicit_response_is_fragment_only_without_refresh_token(
    implicit_lab: Lab,
) -> None:
    response = await implicit_lab.redirect("implicit", response_type="token", **NO_PKCE)
    location = response.headers["location"]
    assert redirect_base(response) == IMPLICIT_CB and urlsplit(location).query == ""
    params = fragment(location)
    assert params["token_type"] == "Bearer" and int(params["expires_in"]) > 0
    assert params["state"] == "st-implicit" and params["iss"] == ISSUER
    assert params["access_token"] and "refresh_token" not in params


async def test_a09_4_id_token_token_binds_at_hash_and_nonce(implicit_lab: Lab) -> None:
    """OIDC Core §3.2.2.10: ``at_hash`` is the left half of SHA-256 of the access token."""
    response = await implicit_lab.redirect(
        "implicit", response_type="id_token token", nonce="n-0S6_WzA2Mj", **NO_PKCE
    )
    params = fragment(response.headers["location"])
    payload = params["id_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    digest = hashlib.sha256(params["access_token"].encode()).digest()
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    assert claims["nonce"] == "n-0S6_WzA2Mj"


async def test_a09_4_id_token_token_without_nonce_is_invalid_request(implicit_lab: Lab) -> None:
    """OIDC Core §3.2.2.1: ``nonce`` is required for responses that return an ID token."""
    lab = implicit_lab
    await lab.sign_in()
    response = await lab.authz("implicit", response_type="id_token token", **NO_PKCE)
    assert response.status_code == 302
    assert fragment(response.headers["location"])["error"] == "invalid_request"
    assert "id_token token" in (await lab.metadata())["response_types_supported"]


async def test_a09_5_token_in_query_mode_is_refused(implicit_lab: Lab) -> None:
    lab = implicit_lab
    await lab.sign_in()
    response = await lab.authz("implicit", response_type="token", response_mode="query", **NO_PKCE)
    assert response.status_code == 302
    location = response.headers["location"]
    assert urlsplit(location).query == "" and "access_token" not in location
    assert fragment(location)["error"] == "invalid_request"


async def test_a09_6_metadata_lists_only_allowed_response_types(
    lab: Lab, implicit_lab: Lab
) -> None:
    default = await lab.metadata()
    assert default["response_types_supported"] == ["code"]
    assert "implicit" not in default["grant_types_supported"]
    legacy = await implicit_lab.metadata()
    assert sorted(legacy["response_types_supported"]) == [
        "code",
        "id_token",
        "id_token token",
        "token",
    ]
