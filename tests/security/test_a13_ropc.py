"""Catalog A13: no Resource Owner Password Credentials grant (RFC 9700 §2.4; OAuth 2.1 §10).

The password grant shows the user's password to the client; RFC 9700 says it MUST NOT be used,
so tokenpath neither accepts nor advertises it, even for an authenticated confidential client.
"""

from __future__ import annotations

import pytest

from tests.security.conftest import Lab
from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("client", ["conf", "machine", "spa"])
async def test_a13_password_grant_is_unsupported(lab: Lab, client: str) -> None:
    form = {"grant_type": "password", "username": "alice", "password": PASSWORD, "scope": "openid"}
    response = await lab.token(form, client=client)
    assert response.status_code == 400
    assert response.json()["error"] in ("unsupported_grant_type", "unauthorized_client")
    assert "access_token" not in response.text


async def test_a13_password_is_not_in_grant_types_supported(lab: Lab) -> None:
    assert "password" not in (await lab.metadata())["grant_types_supported"]
