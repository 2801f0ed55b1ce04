"""Catalog A6: open redirectors at the client (RFC 9700 §4.11.1, §4.1.3).

A redirect URI's host must not forward the browser to wherever a parameter says: with a
fragment response, the browser would re-attach ``#access_token=…`` to the attacker's URL. The
demo web app ignores every redirect-like parameter on every endpoint it has.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.clients.webapp.conftest import Browser
from tests.security.test_a03_state import with_query

EVIL = "https://evil.example/"
PARAMS = ["next", "redirect_to", "return_to", "redirect_uri", "url", "continue"]


def stays_home(location: str, origin: str) -> bool:
    target = urlsplit(location)
    return not target.netloc or f"{target.scheme}://{target.netloc}" == origin


@pytest.mark.parametrize("param", PARAMS)
def test_a06_webapp_never_redirects_off_origin(agent: Browser, param: str) -> None:
    webapp, issuer = agent.stack.webapp, agent.stack.issuer
    login = agent.http.get(f"{webapp}/login", params={param: EVIL})
    assert login.headers["location"].startswith(f"{issuer}/authorize?")
    assert "evil.example" not in login.headers["location"]

    callback = agent.http.get(
        with_query(agent.authorize(login.headers["location"]), **{param: EVIL})
    )
    assert callback.status_code == 303 and stays_home(callback.headers["location"], webapp)

    probes = [("GET", "/"), ("POST", "/refresh"), ("GET", "/signed-out"), ("POST", "/logout")]
    for method, path in probes:
        response = agent.http.request(method, f"{webapp}{path}", params={param: EVIL})
        if "location" in response.headers:
            location = response.headers["location"]
            # sign-out goes to the discovered end-session endpoint (RP-Initiated Logout 1.0)
            at_issuer = path == "/logout" and location.startswith(f"{issuer}/logout?")
            assert stays_home(location, webapp) or at_issuer, (path, response.headers)
            assert "evil.example" not in location
