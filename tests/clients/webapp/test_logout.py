"""The web app's side of OpenID Connect logout, against the real authorization server.

* RP-initiated: "Sign out" sends the browser to the server's end-session endpoint with the ID
  token as hint, its registered post-logout URI and a ``state`` it checks on return.
* Back-channel: when the user's session at the server ends, the server POSTs a logout token and
  every app session of that server session ends; forged or replayed tokens are refused.
"""

from __future__ import annotations

import hashlib
import time
from urllib.parse import parse_qsl, urlsplit

import httpx

from tests.clients.webapp.conftest import Browser, Since, hidden_fields, new_user, webapp_rows
from tests.e2e.conftest import Stack
from tests.support.recorder import Exchange


def _delivered(since: Since) -> Exchange:
    """The logout token's POST to the app. The server sends it in the background, after its
    own answer, so wait for it to arrive (the condition, not a duration, is what is checked)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        posts = [e for e in since.exchanges("webapp", "/backchannel-logout") if e.status]
        if posts:
            return posts[0]
        time.sleep(0.02)
    raise AssertionError("no logout token reached the web app")


def _confirm_at_the_server(agent: Browser, url: str) -> httpx.Response:
    page = agent.http.get(url)
    assert page.status_code == 200, page.text
    answer = agent.http.post(f"{agent.stack.issuer}/logout/confirm", data=hidden_fields(page.text))
    assert answer.status_code == 303, answer.text
    return answer


def test_sign_out_goes_through_the_server_and_comes_back_with_state(agent: Browser) -> None:
    stack = agent.stack
    assert agent.sign_in(new_user(stack)).status_code == 303
    since = Since(stack)
    leaving = agent.http.post(f"{stack.webapp}/logout")
    location = leaving.headers["location"]
    assert location.startswith(f"{stack.issuer}/logout?")
    query = dict(parse_qsl(urlsplit(location).query))
    assert query["post_logout_redirect_uri"] == f"{stack.webapp}/signed-out"
    assert query["client_id"] == stack.client_id("webapp") and query["id_token_hint"]
    back = _confirm_at_the_server(agent, location).headers["location"]
    assert back == f"{stack.webapp}/signed-out?state={query['state']}"
    page = agent.http.get(back)
    assert page.status_code == 200 and 'id="server-too"' in page.text
    assert _delivered(since).status == 200  # the server told the app, too
    assert 'id="login"' in agent.http.get(f"{stack.webapp}/").text


def test_a_return_without_our_state_says_so(agent: Browser) -> None:
    page = agent.http.get(f"{agent.stack.webapp}/signed-out?state=forged")
    assert page.status_code == 200 and "not reached from a sign-out started here" in page.text


def test_signing_out_at_the_server_ends_the_app_session(agent: Browser, stack: Stack) -> None:
    user = new_user(stack)
    assert agent.sign_in(user).status_code == 303
    (row,) = [r for r in webapp_rows(stack) if r["access_token"] and r["sub"] and _mine(r, agent)]
    assert row["sid"], "the app keeps the server's session id"
    since = Since(stack)
    _confirm_at_the_server(agent, f"{stack.issuer}/logout")
    delivered = _delivered(since)
    assert delivered.status == 200
    assert all(r["id_hash"] != row["id_hash"] for r in webapp_rows(stack))
    home = agent.http.get(f"{stack.webapp}/")
    assert 'id="login"' in home.text
    # the same logout token again is a replay
    replay = httpx.post(
        f"{stack.webapp}/backchannel-logout",
        content=delivered.body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert replay.status_code == 400 and "replayed" in replay.json()["error_description"]


def test_forged_logout_tokens_end_nothing(agent: Browser, stack: Stack) -> None:
    assert agent.sign_in(new_user(stack)).status_code == 303
    before = webapp_rows(stack)
    since = Since(stack)
    id_token = str(next(r["id_token"] for r in before if _mine(r, agent)))
    for form in [
        {},
        {"logout_token": "x.y.z"},
        {"logout_token": id_token},  # an ID token is not a logout token
    ]:
        response = httpx.post(f"{stack.webapp}/backchannel-logout", data=form)
        assert response.status_code == 400 and response.json()["error"] == "invalid_request"
        assert response.headers["cache-control"] == "no-store"
    assert webapp_rows(stack) == before
    assert since.token_requests() == []


def _mine(row: dict[str, object], agent: Browser) -> bool:
    cookie = agent.http.cookies.get("webapp_session")
    return cookie is not None and row["id_hash"] == hashlib.sha256(cookie.encode()).hexdigest()
