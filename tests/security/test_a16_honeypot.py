"""Catalog A16: the AS as a phishing bounce for a client anyone registered (RFC 9700 §4.11.2).

A client registered over ``/register`` names its own redirect URI. Before the user has signed
in, an error for it is not redirected at once: the AS shows where the browser would go and
waits for the user. Registration itself needs an initial access token by default.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.security.conftest import EVIL, Lab, assert_not_redirected, location_params
from tokenpath.core.dynamic_registration import create_initial_access_token

pytestmark = pytest.mark.anyio


async def registered(lab: Lab) -> str:
    initial = await create_initial_access_token(lab.server.ctx)
    response = await lab.http.post(
        "/register",
        json={"client_name": "Your Bank", "redirect_uris": [EVIL], "scope": "openid"},
        headers={"Authorization": f"Bearer {initial}"},
    )
    assert response.status_code == 201, response.text
    client_id: str = response.json()["client_id"]
    return client_id


async def test_a16_registration_needs_an_initial_access_token(lab: Lab) -> None:
    response = await lab.http.post("/register", json={"redirect_uris": [EVIL]})
    assert response.status_code == 401 and response.json()["error"] == "invalid_token"


async def test_a16_early_errors_of_a_registered_client_are_not_a_bounce(lab: Lab) -> None:
    client_id = await registered(lab)
    query = {"response_type": "code", "client_id": client_id, "scope": "bogus", "state": "x"}
    page = await lab.http.get("/authorize?" + urlencode(query))
    assert_not_redirected(page)
    assert "evil.example" in page.text and "Continue" in page.text


async def test_a16_after_sign_in_the_error_goes_back_to_the_client(lab: Lab) -> None:
    client_id = await registered(lab)
    await lab.sign_in()
    query = {"response_type": "code", "client_id": client_id, "scope": "bogus", "state": "x"}
    response = await lab.http.get("/authorize?" + urlencode(query))
    assert response.status_code == 302
    assert location_params(response)["error"] == "invalid_scope"
