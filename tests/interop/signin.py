"""What a person does in the browser, done with a plain HTTP session: sign in, then allow.

The library under test builds the authorization URL and consumes the callback; between the two,
this posts the authorization server's real login and consent forms (with their CSRF fields), so
the server sees exactly what a browser would send.
"""

from __future__ import annotations

import re
from html import unescape

import httpx

from tests.interop.conftest import PASSWORD, USERNAME

_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def hidden_fields(html: str) -> dict[str, str]:
    return {unescape(name): unescape(value) for name, value in _HIDDEN.findall(html)}


def sign_in_and_allow(authorization_url: str, issuer: str) -> str:
    """Follow ``authorization_url`` as ``alice``; returns the URL the server redirects back to."""
    with httpx.Client(follow_redirects=False, timeout=30) as http:
        login_page = http.get(authorization_url)
        assert login_page.status_code == 200, login_page.text
        assert 'action="/login"' in login_page.text, login_page.text
        form = hidden_fields(login_page.text) | {"username": USERNAME, "password": PASSWORD}
        response = http.post(f"{issuer}/login", data=form)
        while response.status_code in (302, 303) and response.headers["location"].startswith(
            (issuer, "/")
        ):
            response = http.get(httpx.URL(issuer).join(response.headers["location"]))
        assert response.status_code == 200 and 'action="/consent"' in response.text, response.text
        decision = hidden_fields(response.text) | {"decision": "approve"}
        final = http.post(f"{issuer}/consent", data=decision)
        assert final.status_code == 303, final.text
        location: str = final.headers["location"]
        return location
