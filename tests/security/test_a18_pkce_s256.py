"""Catalog A18: PKCE ``plain`` is refused, only S256 exists (RFC 9700 §2.1.1; OAuth 2.1 §7.5.2).

``plain`` puts the verifier itself in the authorization request, where logs, ``Referer`` and
history can read it; a challenge without a method defaults to ``plain`` (RFC 7636 §4.3), so it
is refused too. Verifiers must have the RFC 7636 §4.1 syntax: 43-128 unreserved characters.
"""

from __future__ import annotations

import base64
import hashlib

import pytest

from tests.security.conftest import Lab, location_params


def s256(verifier: str) -> str:
    """RFC 7636 §4.2 over the UTF-8 bytes, so non-ASCII verifiers get a matching challenge."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "method",
    ["plain", None, "s256", "S512", ""],
    ids=["plain", "no-method", "lower", "S512", "empty"],
)
async def test_a18_challenge_methods_other_than_s256_are_invalid_request(
    lab: Lab, method: str | None
) -> None:
    await lab.sign_in()
    response = await lab.authz("spa", code_challenge="A" * 43, code_challenge_method=method)
    assert response.status_code == 302
    params = location_params(response)
    assert params["error"] == "invalid_request" and "code" not in params


@pytest.mark.parametrize(
    "verifier",
    ["a" * 42, "a" * 129, "a" * 42 + "=", "a" * 42 + " ", "a" * 42 + "é", "a" * 42 + "+"],
    ids=["42-chars", "129-chars", "equals", "space", "non-ascii", "plus"],
)
async def test_a18_malformed_verifier_is_refused(lab: Lab, verifier: str) -> None:
    """The challenge matches the verifier; only the verifier's syntax is wrong."""
    code = await lab.code("spa", code_challenge=s256(verifier))
    response = await lab.redeem("spa", code, code_verifier=verifier)
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_grant", "invalid_request")


async def test_a18_metadata_lists_only_s256(lab: Lab) -> None:
    assert (await lab.metadata())["code_challenge_methods_supported"] == ["S256"]
