"""The confidential web app over HTTP: the checks its lesson depends on (catalog A3, A4, A6, A8).

Each refusal is asserted together with what must *not* have happened: no request reached the
token endpoint, no session was signed in.
"""

from __future__ import annotations

import base64
import hashlib
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from tests.clients.webapp.conftest import (
    Browser,
    Since,
    new_user,
    rows_of,
    user_id,
    webapp_rows,
)
from tests.e2e.conftest import Stack
from tests.support.servers import free_port, serve_asgi
from tokenpath.clients.webapp import COOKIE, WebappConfig, create_webapp
from tokenpath.clients.webapp.oauth import basic_auth, new_pkce
from tokenpath.runtime import build_context
from tokenpath.settings import Settings
from tokenpath.storage.memory import memory_stores
from tokenpath.web.app import create_app


def _with_query(url: str, **changes: str | None) -> str:
    parts = urlsplit(url)
    pairs = [(k, v) for k, v in parse_qsl(parts.query) if k not in changes]
    pairs += [(k, v) for k, v in changes.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(pairs)))


def _set_cookie(response: httpx.Response) -> SimpleCookie:
    cookie: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        cookie.load(header)
    return cookie


def _signed_in(stack: Stack) -> list[dict[str, object]]:
    return [r for r in webapp_rows(stack) if r["access_token"] is not None]


# --- the story ----------------------------------------------------------------------------------


def test_home_offers_the_login_link_with_security_headers(agent: Browser) -> None:
    response = agent.http.get(f"{agent.stack.webapp}/")
    assert response.status_code == 200
    assert 'id="login" href="/login"' in response.text
    headers = response.headers
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    # no third-party resource anywhere on the page
    assert "http" not in response.text.replace(agent.stack.issuer, "")


def test_login_pushes_the_request_and_sends_the_browser_with_its_reference_alone(
    agent: Browser,
) -> None:
    """RFC 9126: state and PKCE go to /par over the back channel, authenticated with Basic;
    the browser's URL holds only ``client_id`` and the ``request_uri``."""
    since = Since(agent.stack)
    location = agent.start()
    assert location.startswith(f"{agent.stack.issuer}/authorize?")
    sent = dict(parse_qsl(urlsplit(location).query))
    assert set(sent) == {"client_id", "request_uri"}
    assert sent["client_id"] == agent.stack.client_id("webapp")
    (pushed,) = since.exchanges("as", "/par")
    assert pushed.method == "POST" and pushed.status == 201
    assert dict(pushed.headers)["authorization"].startswith("Basic ")
    assert sent["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
    query = dict(parse_qsl(pushed.body.decode()))
    assert query["response_type"] == "code"
    assert query["client_id"] == agent.stack.client_id("webapp")
    assert query["redirect_uri"] == f"{agent.stack.webapp}/callback"
    assert query["code_challenge_method"] == "S256"
    assert len(query["state"]) >= 32

    session_id = agent.http.cookies[COOKIE]
    row = next(
        r
        for r in webapp_rows(agent.stack)
        if r["id_hash"] == hashlib.sha256(session_id.encode()).hexdigest()
    )
    # the table holds the hash of the cookie, never the cookie itself
    assert session_id not in str(webapp_rows(agent.stack))
    assert row["state"] == query["state"]
    verifier = str(row["code_verifier"])
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    assert query["code_challenge"] == challenge.rstrip(b"=").decode()


def test_login_cookie_is_httponly_and_samesite_lax(agent: Browser) -> None:
    response = agent.http.get(f"{agent.stack.webapp}/login")
    morsel = _set_cookie(response)[COOKIE]
    assert morsel["httponly"] is True
    assert morsel["samesite"].lower() == "lax"
    assert morsel["path"] == "/"
    assert len(morsel.value) >= 40


def test_sign_in_keeps_the_tokens_on_the_server(agent: Browser) -> None:
    stack = agent.stack
    since = Since(stack)
    pending_cookie = agent.http.get(f"{stack.webapp}/login")
    pending_id = pending_cookie.cookies[COOKIE]
    callback_url = agent.authorize(pending_cookie.headers["location"])
    callback = agent.http.get(callback_url)

    # an immediate 303 to a URL without the code, with no-referrer
    assert callback.status_code == 303
    assert callback.headers["location"] == "/"
    assert callback.headers["referrer-policy"] == "no-referrer"
    # a new session id once signed in: a planted pre-login cookie does not become a session
    signed_in_id = callback.cookies[COOKIE]
    assert signed_in_id != pending_id
    row = next(
        r
        for r in _signed_in(stack)
        if r["id_hash"] == hashlib.sha256(signed_in_id.encode()).hexdigest()
    )
    assert user_id(stack, "alice") in str(row["profile"])
    assert signed_in_id not in str(webapp_rows(stack))

    # the server redeemed the code with HTTP Basic and the PKCE verifier
    (token_request,) = since.token_requests()
    authorization = dict(token_request.headers)["authorization"]
    assert authorization == basic_auth(stack.client_id("webapp"), stack.secret("webapp"))
    form = dict(parse_qsl(token_request.body.decode()))
    assert form["grant_type"] == "authorization_code" and "code_verifier" in form
    assert "client_secret" not in form and stack.secret("webapp") not in token_request.text()
    assert form["code"] == parse_qs(urlsplit(callback_url).query)["code"][0]

    home = agent.http.get(f"{stack.webapp}/")
    assert home.status_code == 200
    assert user_id(stack, "alice") in home.text
    assert 'data-path="/api/me"' in home.text and "Anyone holding this token" in home.text
    assert 'data-path="/api/notes"' in home.text and "Welcome! This note is yours" in home.text
    # the browser received neither token: not in any page, header or cookie
    api_calls = since.exchanges("api", "/api/me")
    assert ("authorization", f"Bearer {row['access_token']}") in api_calls[-1].headers
    for secret in (str(row["access_token"]), str(row["refresh_token"])):
        for response in (pending_cookie, callback, home):
            assert secret not in response.text
            assert secret not in str(response.headers)
        assert secret not in str(dict(agent.http.cookies))

    # the pending cookie from before the sign-in is worthless now
    with httpx.Client(cookies={COOKIE: pending_id}) as stale:
        assert 'id="login"' in stale.get(f"{stack.webapp}/").text


# --- refusals before any token request ----------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"state": None},
        {"state": "x" * 32},
        {"state": "é" * 32},
        {"state": ""},
    ],
    ids=["missing", "wrong", "non-ascii", "empty"],
)
def test_callback_with_a_bad_state_is_refused(
    agent: Browser, change: dict[str, str | None]
) -> None:
    callback_url = agent.authorize(agent.start())
    since = Since(agent.stack)
    response = agent.http.get(_with_query(callback_url, **change))
    assert response.status_code == 400
    assert "does not belong to a sign-in you started" in response.text
    assert since.token_requests() == []
    # the real callback still works: a forged one does not burn the user's pending sign-in
    assert agent.http.get(callback_url).status_code == 303


def test_callback_without_any_session_cookie_is_refused(agent: Browser) -> None:
    callback_url = agent.authorize(agent.start())
    since = Since(agent.stack)
    with httpx.Client() as cookieless:
        response = cookieless.get(callback_url)
    assert response.status_code == 400
    assert since.token_requests() == []


def test_replayed_callback_is_refused(agent: Browser) -> None:
    callback_url = agent.authorize(agent.start())
    since = Since(agent.stack)
    assert agent.http.get(callback_url).status_code == 303
    replay = agent.http.get(callback_url)
    assert replay.status_code == 400
    assert len(since.token_requests()) == 1


def test_a_callback_from_another_browser_cannot_sign_this_one_in(
    agent: Browser, other_agent: Browser
) -> None:
    """Login CSRF: mallory's callback URL, opened in alice's browser, does nothing."""
    mallorys_callback = other_agent.authorize(other_agent.start(), user="mallory")
    agent.start()  # alice has a pending sign-in of her own
    since = Since(agent.stack)
    response = agent.http.get(mallorys_callback)
    assert response.status_code == 400
    assert since.token_requests() == []
    assert user_id(agent.stack, "mallory") not in agent.http.get(f"{agent.stack.webapp}/").text


@pytest.mark.parametrize("iss", [None, "", "http://127.0.0.1:1", "ISSUER/"])
def test_wrong_or_missing_iss_aborts_before_the_token_request(
    agent: Browser, iss: str | None
) -> None:
    callback_url = agent.authorize(agent.start())
    if iss == "ISSUER/":
        iss = f"{agent.stack.issuer}/"
    since = Since(agent.stack)
    response = agent.http.get(_with_query(callback_url, iss=iss))
    assert response.status_code == 400
    assert "mix-up" in response.text
    assert since.token_requests() == []
    # the state was spent on the aborted response: the flow has to start again
    assert agent.http.get(callback_url).status_code == 400
    assert since.token_requests() == []


def test_repeated_parameters_are_refused(agent: Browser) -> None:
    callback_url = agent.authorize(agent.start())
    since = Since(agent.stack)
    response = agent.http.get(callback_url + "&code=other")
    assert response.status_code == 400
    assert since.token_requests() == []


def test_denied_consent_is_explained_and_nothing_is_stored(agent: Browser) -> None:
    before = len(_signed_in(agent.stack))
    callback_url = agent.authorize(agent.start(), user=new_user(agent.stack), decision="deny")
    query = parse_qs(urlsplit(callback_url).query)
    assert query["error"] == ["access_denied"] and "code" not in query
    since = Since(agent.stack)
    response = agent.http.get(callback_url)
    assert response.status_code == 400
    assert "access_denied" in response.text
    assert "You chose not to allow this app" in response.text
    assert since.token_requests() == []
    assert len(_signed_in(agent.stack)) == before


def test_error_description_is_escaped(agent: Browser) -> None:
    agent.start()
    row_state = next(
        r["state"]
        for r in webapp_rows(agent.stack)
        if r["id_hash"] == hashlib.sha256(agent.http.cookies[COOKIE].encode()).hexdigest()
    )
    query = urlencode(
        {
            "error": "server_error",
            "error_description": "<script>alert(1)</script>",
            "state": row_state,
            "iss": agent.stack.issuer,
        }
    )
    response = agent.http.get(f"{agent.stack.webapp}/callback?{query}")
    assert response.status_code == 400
    assert "<script>" not in response.text and "&lt;script&gt;" in response.text


# --- no open redirects --------------------------------------------------------------------------


@pytest.mark.parametrize("param", ["next", "redirect_to", "return_to"])
def test_no_parameter_redirects_off_the_origin(agent: Browser, param: str) -> None:
    evil = {param: "https://evil.example/"}
    login = agent.http.get(f"{agent.stack.webapp}/login", params=evil)
    assert login.headers["location"].startswith(f"{agent.stack.issuer}/authorize?")
    assert "evil" not in login.headers["location"]
    callback = agent.http.get(_with_query(agent.authorize(login.headers["location"]), **evil))
    assert callback.status_code == 303 and callback.headers["location"] == "/"
    logout = agent.http.post(f"{agent.stack.webapp}/logout", params=evil)
    assert logout.status_code == 303
    assert logout.headers["location"].startswith(f"{agent.stack.issuer}/logout?")
    assert "evil" not in logout.headers["location"]


# --- refresh and logout -------------------------------------------------------------------------


def _my_row(agent: Browser) -> dict[str, object]:
    digest = hashlib.sha256(agent.http.cookies[COOKIE].encode()).hexdigest()
    return next(r for r in webapp_rows(agent.stack) if r["id_hash"] == digest)


def test_refresh_rotates_the_tokens_server_side(agent: Browser) -> None:
    assert agent.sign_in().status_code == 303
    before = _my_row(agent)
    response = agent.http.post(f"{agent.stack.webapp}/refresh")
    assert response.status_code == 303 and response.headers["location"] == "/"
    after = _my_row(agent)
    assert after["refreshes"] == 1
    assert after["access_token"] != before["access_token"]
    assert after["refresh_token"] != before["refresh_token"]
    home = agent.http.get(f"{agent.stack.webapp}/")
    assert '<dd id="refreshes">1</dd>' in home.text
    assert str(after["access_token"]) not in home.text


def test_cross_site_form_posts_are_refused(agent: Browser) -> None:
    """Every port on 127.0.0.1 is the same *site*, so SameSite=Lax alone would not stop the
    authorization server's or the SPA's origin from posting here."""
    assert agent.sign_in().status_code == 303
    before = _my_row(agent)
    for path in ("/refresh", "/logout"):
        response = agent.http.post(
            f"{agent.stack.webapp}{path}", headers={"Sec-Fetch-Site": "same-site"}
        )
        assert response.status_code == 403
    assert _my_row(agent) == before


def test_logout_deletes_the_session_and_revokes_the_refresh_token(agent: Browser) -> None:
    stack = agent.stack
    assert agent.sign_in().status_code == 303
    row = _my_row(agent)
    response = agent.http.post(f"{stack.webapp}/logout")
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"{stack.issuer}/logout?")
    assert _set_cookie(response)[COOKIE]["max-age"] == "0"
    assert all(r["id_hash"] != row["id_hash"] for r in webapp_rows(stack))
    refreshed = httpx.post(
        f"{stack.issuer}/token",
        data={"grant_type": "refresh_token", "refresh_token": str(row["refresh_token"])},
        auth=(stack.client_id("webapp"), stack.secret("webapp")),
    )
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
    assert 'id="login"' in agent.http.get(f"{stack.webapp}/").text


# --- a misconfigured or unreachable authorization server ------------------------------------------


def _webapp(stack: Stack, tmp_path: Path, **changes: str) -> WebappConfig:
    values = {
        "issuer": stack.issuer,
        "client_id": stack.client_id("webapp"),
        "client_secret": stack.secret("webapp"),
        "redirect_uri": f"{stack.webapp}/callback",
        "api_base": stack.api,
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'other-webapp.db'}",
    }
    return WebappConfig(**(values | changes))


def test_discovery_naming_another_issuer_is_refused(stack: Stack, tmp_path: Path) -> None:
    claimed = f"http://127.0.0.1:{free_port()}"
    settings = Settings(issuer=claimed, data_dir=tmp_path)
    impostor = create_app(settings, ctx=build_context(settings, memory_stores()))
    with serve_asgi(impostor) as served:
        app = create_webapp(_webapp(stack, tmp_path, issuer=served))
        with serve_asgi(app) as webapp:
            response = httpx.get(f"{webapp}/login")
    assert response.status_code == 502
    assert "names another issuer" in response.text
    assert "location" not in response.headers


def test_unreachable_authorization_server_gives_an_error_page(stack: Stack, tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"  # reserved, never listening
    with serve_asgi(create_webapp(_webapp(stack, tmp_path, issuer=nowhere))) as webapp:
        response = httpx.get(f"{webapp}/login")
    assert response.status_code == 502
    assert "could not be fetched" in response.text
    assert response.headers["x-frame-options"] == "DENY"


def test_a_refused_code_redemption_signs_nobody_in(
    agent: Browser, stack: Stack, tmp_path: Path
) -> None:
    config = _webapp(stack, tmp_path)
    with serve_asgi(create_webapp(config)) as webapp:
        login = agent.http.get(f"{webapp}/login")
        assert login.status_code == 302
        # the registered redirect URI names the stack's app: deliver the callback to this one,
        # with a code the server never issued
        callback = agent.authorize(login.headers["location"])
        parts = urlsplit(callback.replace(stack.webapp, webapp, 1))
        query = [(k, "forged" if k == "code" else v) for k, v in parse_qsl(parts.query)]
        since = Since(stack)
        response = agent.http.get(urlunsplit(parts._replace(query=urlencode(query))))
    assert response.status_code == 502
    assert "invalid_grant" in response.text
    assert len(since.token_requests()) == 1
    assert [r for r in rows_of(config.database_url) if r["access_token"] is not None] == []


def test_a_wrong_client_secret_is_refused_at_the_push(
    agent: Browser, stack: Stack, tmp_path: Path
) -> None:
    """The first request that authenticates is the push: the browser is sent nowhere."""
    config = _webapp(stack, tmp_path, client_secret="not-the-secret")
    since = Since(stack)
    with serve_asgi(create_webapp(config)) as webapp:
        login = agent.http.get(f"{webapp}/login")
    assert login.status_code == 502 and "location" not in login.headers
    assert "invalid_client" in login.text
    assert [e.status for e in since.exchanges("as", "/par")] == [401]
    assert since.exchanges("as", "/authorize") == []


# --- client authentication encoding ---------------------------------------------------------------


def test_basic_auth_form_encodes_id_and_secret_first() -> None:
    """RFC 6749 §2.3.1: a ``:`` in the id must not split it, ``%`` and ``+`` must survive."""
    header = basic_auth("app:1 é", "p%ss+w/rd:")
    scheme, _, encoded = header.partition(" ")
    raw = base64.b64decode(encoded).decode("ascii")
    client_id, _, secret = raw.partition(":")
    assert scheme == "Basic"
    assert client_id == "app%3A1+%C3%A9" and secret == "p%25ss%2Bw%2Frd%3A"
    assert unquote_plus(client_id) == "app:1 é" and unquote_plus(secret) == "p%ss+w/rd:"


def test_pkce_pairs_are_fresh_and_s256() -> None:
    pairs = {new_pkce() for _ in range(50)}
    assert len(pairs) == 50
    for verifier, challenge in pairs:
        assert 43 <= len(verifier) <= 128
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        assert challenge == digest.rstrip(b"=").decode()


def test_config_refuses_relative_urls() -> None:
    with pytest.raises(ValueError, match="issuer"):
        WebappConfig(
            issuer="/as",
            client_id="c",
            client_secret="s",
            redirect_uri="http://127.0.0.1:9002/callback",
            api_base="http://127.0.0.1:9001",
            database_url="sqlite+aiosqlite:///x.db",
        )
