"""Catalog A2: code interception and PKCE downgrade (RFC 9700 §4.8.2, §2.1.1; RFC 7636).

A code issued without a ``code_challenge`` must not be redeemable *with* a ``code_verifier``:
otherwise an attacker strips the challenge from their own request and injects the unbound code
into a client that dutifully sends its verifier. Support must be detectable from metadata.
"""

from __future__ import annotations

import pytest

from tests.security.conftest import VERIFIER, Lab

pytestmark = pytest.mark.anyio


async def test_a02_1_verifier_for_a_code_without_challenge_is_invalid_grant(lab: Lab) -> None:
    code = await lab.code("conf", code_challenge=None, code_challenge_method=None)
    response = await lab.redeem("conf", code, code_verifier=VERIFIER)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "access_token" not in response.text


async def test_a02_2_metadata_advertises_s256(lab: Lab) -> None:
    metadata = await lab.metadata()
    assert metadata["code_challenge_methods_supported"] == ["S256"]


async def test_a02_2_openid_configuration_advertises_s256(lab: Lab) -> None:
    response = await lab.http.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    assert response.json()["code_challenge_methods_supported"] == ["S256"]
