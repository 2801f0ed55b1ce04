"""Catalog A15: a client impersonating a resource owner (RFC 9700 §4.15; OAuth 2.1 §7.4).

Client ids are assigned by the server, so no client can pick an id equal to a user's ``sub``;
and a client-credentials token is told apart from a user's token by its claims (``gty``, no
``auth_time``, ``sub`` equal to ``client_id``), both in the JWT and through introspection.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.security.conftest import CONF_CB, Lab
from tokenpath.core.dynamic_registration import create_initial_access_token

pytestmark = pytest.mark.anyio


def claims(jwt: str) -> dict[str, Any]:
    """The JWT payload, read only (the signature is the resource server's concern)."""
    payload = jwt.split(".")[1]
    value: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return value


async def test_a15_client_credentials_token_is_distinguishable(lab: Lab) -> None:
    issued = await lab.token({"grant_type": "client_credentials"}, client="machine")
    assert issued.status_code == 200, issued.text
    machine = issued.json()["access_token"]
    user = (await lab.tokens("conf"))["access_token"]

    for view in (claims(machine), await lab.introspect(machine, client="machine")):
        assert view["sub"] == view["client_id"] == lab.id("machine")
        assert view["gty"] == "client_credentials"
        assert "auth_time" not in view
    for view in (claims(user), await lab.introspect(user)):
        assert view["gty"] == "authorization_code"
        assert view["sub"] != view["client_id"]
    assert "auth_time" in claims(user)
    assert claims(machine)["sub"] != claims(user)["sub"]


async def test_a15_client_ids_are_server_assigned(lab: Lab) -> None:
    """Ids are random and unrelated to names: a client named like a user gets a random id."""
    sub = claims((await lab.tokens("conf"))["access_token"])["sub"]
    await lab.register(sub, lab.clients["conf"].client_type, redirect_uris=(CONF_CB,))
    assert lab.id(sub) != sub
    assert len({c.client_id for c in lab.clients.values()}) == len(lab.clients)


async def test_a15_registration_ignores_a_requested_client_id(lab: Lab) -> None:
    """RFC 7591 §3.2.1: the server assigns ``client_id``; a requested one is not honoured."""
    sub = claims((await lab.tokens("conf"))["access_token"])["sub"]
    initial = await create_initial_access_token(lab.server.ctx)
    response = await lab.http.post(
        "/register",
        json={"client_id": sub, "client_name": "impostor", "redirect_uris": [CONF_CB]},
        headers={"Authorization": f"Bearer {initial}"},
    )
    assert response.status_code == 201
    assert response.json()["client_id"] != sub
