"""Catalog A3: CSRF on the redirect endpoint (RFC 9700 §4.7.1, §2.1; RFC 6749 §4.1.2).

The AS returns ``state`` byte-for-byte, on success and on error redirects. The shipped demo
clients bind a one-time ``state`` to the browser that started the flow: a callback with a
missing or wrong ``state``, or the same callback twice, is refused before any token request.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from tests.clients.webapp.conftest import Browser, Since
from tests.e2e.conftest import Stack
from tests.security.conftest import Lab, location_params
from tokenpath.clients.native import LoginError, NativeClient

STATES = ["abc def+", "a&b=c#d?e", "élan ☃", "%41%2B", "x" * 500]


def with_query(url: str, /, **changes: str | None) -> str:
    parts = urlsplit(url)
    pairs = [(k, v) for k, v in parse_qsl(parts.query) if k not in changes]
    pairs += [(k, v) for k, v in changes.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(pairs)))


@pytest.mark.anyio
@pytest.mark.parametrize("state", STATES)
async def test_a03_state_is_echoed_byte_for_byte_on_success(lab: Lab, state: str) -> None:
    params = location_params(await lab.redirect("conf", state=state))
    assert params["state"] == state and "code" in params


@pytest.mark.anyio
@pytest.mark.parametrize("state", STATES)
async def test_a03_state_is_echoed_on_error_redirects(lab: Lab, state: str) -> None:
    await lab.sign_in()
    response = await lab.authz("conf", state=state, scope="unknown-scope")
    assert response.status_code == 302
    params = location_params(response)
    assert params["error"] == "invalid_scope" and params["state"] == state


@pytest.mark.parametrize("state", [None, "forged-state", ""], ids=["missing", "wrong", "empty"])
def test_a03_webapp_refuses_a_callback_with_a_bad_state(agent: Browser, state: str | None) -> None:
    callback = agent.authorize(agent.start())
    since = Since(agent.stack)
    response = agent.http.get(with_query(callback, state=state))
    assert 400 <= response.status_code < 500
    assert since.token_requests() == []


def test_a03_webapp_refuses_a_replayed_callback(agent: Browser) -> None:
    callback = agent.authorize(agent.start())
    since = Since(agent.stack)
    assert agent.http.get(callback).status_code == 303
    replay = agent.http.get(callback)
    assert 400 <= replay.status_code < 500
    assert len(since.token_requests()) == 1


def forged_callback(stack: Stack, *, state: str | None, iss: str) -> object:
    """An ``open_browser`` that, instead of signing in, delivers a forged response."""

    def open_browser(url: str) -> None:
        request = dict(parse_qsl(urlsplit(url).query))
        forged = {"code": "forged-code", "state": state or request["state"], "iss": iss}
        httpx.get(request["redirect_uri"] + "?" + urlencode(forged), timeout=10)

    return open_browser


def test_a03_native_client_refuses_a_wrong_state(stack: Stack) -> None:
    since = Since(stack)
    client = NativeClient(stack.issuer, stack.client_id("native"))
    with pytest.raises(LoginError, match="state"):
        client.login(open_browser=forged_callback(stack, state="wrong", iss=stack.issuer))  # type: ignore[arg-type]
    assert since.token_requests() == []
