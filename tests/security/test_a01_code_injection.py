"""Catalog A1: authorization code injection (RFC 9700 §4.5, §2.1.1; OAuth 2.1 §7.5.1).

An injected code is only redeemable with the PKCE verifier of the transaction that asked for
it, and public clients cannot start a transaction without a challenge. In OAuth 2.1 mode
(``require_pkce_for_confidential``) confidential clients cannot either.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.security.conftest import SPA_CB, Lab, location_params, open_lab, redirect_base
from tokenpath.storage.memory import memory_stores

pytestmark = pytest.mark.anyio

OTHER_VERIFIER = "x" * 43


async def test_a01_1_wrong_verifier_is_invalid_grant(lab: Lab) -> None:
    code = await lab.code("spa")
    response = await lab.redeem("spa", code, code_verifier=OTHER_VERIFIER)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "access_token" not in response.text


async def test_a01_2_missing_verifier_is_refused(lab: Lab) -> None:
    code = await lab.code("spa")
    response = await lab.token(
        {"grant_type": "authorization_code", "code": code, "redirect_uri": SPA_CB}, client="spa"
    )
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_grant", "invalid_request")
    # the code was not spent by the failed attempt: the real client still redeems it
    assert (await lab.redeem("spa", code)).status_code == 200


async def test_a01_3_public_client_without_challenge_gets_an_error_redirect(lab: Lab) -> None:
    await lab.sign_in()
    response = await lab.authz("spa", code_challenge=None, code_challenge_method=None)
    assert response.status_code == 302
    assert redirect_base(response) == SPA_CB
    params = location_params(response)
    assert params["error"] == "invalid_request" and "code" not in params
    assert params["state"] == "st-spa"


@pytest.fixture
async def oauth21_lab() -> AsyncIterator[Lab]:
    async for lab in open_lab(memory_stores(), require_pkce_for_confidential=True):
        yield lab


async def test_a01_4_oauth21_mode_confidential_client_needs_pkce(oauth21_lab: Lab) -> None:
    lab = oauth21_lab
    await lab.sign_in()
    response = await lab.authz("conf", code_challenge=None, code_challenge_method=None)
    assert response.status_code == 302
    params = location_params(response)
    assert params["error"] == "invalid_request" and "code" not in params


async def test_a01_4_default_policy_lets_confidential_clients_choose(lab: Lab) -> None:
    """Recorded behaviour (OAuth 2.0 mode): a confidential client may omit PKCE."""
    body = await lab.tokens("conf", code_challenge=None, code_challenge_method=None)
    assert body["token_type"] == "Bearer"
