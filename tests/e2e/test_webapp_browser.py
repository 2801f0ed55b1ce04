"""The Foundation story in Chromium: a confidential web app whose browser never sees a token."""

from __future__ import annotations

import sqlite3
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.e2e.conftest import Stack
from tests.e2e.flows import record_navigation, sign_in_and_allow, storage_of


def stored_tokens(stack: Stack) -> tuple[str, str]:
    path = stack.webapp_db.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT access_token, refresh_token FROM webapp_sessions WHERE access_token IS NOT NULL"
        ).fetchall()
    assert len(rows) == 1
    access_token, refresh_token = rows[0]
    return access_token, refresh_token


def navigation_history(page: Any) -> list[dict[str, Any]]:
    """Every entry of the tab's session history, as Chromium keeps it."""
    cdp = page.context.new_cdp_session(page)
    try:
        entries: list[dict[str, Any]] = cdp.send("Page.getNavigationHistory")["entries"]
    finally:
        cdp.detach()
    return entries


def test_code_flow_story_token_never_reaches_the_browser(stack: Stack, page: Any) -> None:
    seen = record_navigation(page)
    page.goto(stack.webapp)
    page.click("#login")
    sign_in_and_allow(page)
    page.wait_for_selector("#where")
    assert page.url == f"{stack.webapp}/"
    api_answer = page.inner_text("pre[data-path='/api/me']")
    assert '"client_id"' in api_answer and "Anyone holding this token" in api_answer
    assert "server-side session store" in page.inner_text("#where")

    access_token, refresh_token = stored_tokens(stack)
    assert access_token.count(".") == 2 and refresh_token

    # the callback request carried ?code&state&iss in the query, and no other request did
    callbacks = [u for u in seen["requests"] if urlsplit(u).path == "/callback"]
    assert len(callbacks) == 1
    query = parse_qs(urlsplit(callbacks[0]).query)
    assert set(query) == {"code", "state", "iss"} and query["iss"] == [stack.issuer]
    code = query["code"][0]
    assert [u for u in seen["requests"] if code in u] == callbacks
    # the 303 means the callback URL was never committed: the code is in no history entry
    assert not any(code in u for u in seen["navigations"])
    # the browser's own session history agrees (Chromium's list of entries, read over CDP;
    # the first entry is the new tab's about:blank)
    history = [e["url"] for e in navigation_history(page)]
    assert page.evaluate("history.length") == len(history) == len(seen["navigations"]) + 1
    assert history[1:] == seen["navigations"] and history[-1] == f"{stack.webapp}/"
    # ...and the app answered it with a 303 to a URL without the code, with no-referrer
    callback_exchange = next(
        e for e in stack.recorder.exchanges if e.target.startswith("/callback")
    )
    response_headers = dict(callback_exchange.response_headers)
    assert callback_exchange.status == 303 and response_headers["location"] == "/"
    assert response_headers["referrer-policy"] == "no-referrer"

    # the tokens appear in no URL, history entry, page, cookie or web storage
    storage = storage_of(page, stack.webapp) + storage_of(page, stack.issuer)
    cookies = str(page.context.cookies())
    history = [e["url"] for e in navigation_history(page)]  # after the storage visits too
    for secret in (access_token, refresh_token):
        assert not any(secret in u for u in seen["requests"] + seen["navigations"] + history)
        assert not any(secret in html for html in seen["html"])
        assert secret not in page.content()
        assert secret not in cookies
        assert secret not in storage
    cookie_names = {c["name"] for c in page.context.cookies()}
    assert "webapp_session" in cookie_names
    # the only place the browser-facing servers saw the access token: the API, in the header
    holders = {(e.server, e.target.split("?")[0]) for e in stack.recorder.containing(access_token)}
    assert holders <= {("api", "/api/me"), ("api", "/api/notes")}
    assert all(
        ("authorization", f"Bearer {access_token}") in e.headers
        for e in stack.recorder.containing(access_token)
    )


def test_denying_consent_shows_the_error_and_stores_nothing(stack: Stack, page: Any) -> None:
    page.goto(stack.webapp)
    page.click("#login")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "wonderland")
    page.click("button[type=submit]")
    page.click("button[value=deny]")
    page.wait_for_selector(".error")
    assert "access_denied" in page.inner_text(".error")
    path = stack.webapp_db.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        assert db.execute(
            "SELECT count(*) FROM webapp_sessions WHERE access_token IS NOT NULL"
        ).fetchone() == (0,)


def test_the_address_bar_shows_only_the_pushed_request_reference(stack: Stack, page: Any) -> None:
    """RFC 9126: the app pushes its request to /par; at the authorization server the address bar
    shows ``client_id`` and ``request_uri`` alone, on the sign-in page and after it."""
    seen = record_navigation(page)
    page.goto(stack.webapp)
    page.click("#login")
    page.wait_for_selector("input[name=username]")
    shown = urlsplit(page.url)
    assert f"{shown.scheme}://{shown.netloc}" == stack.issuer and shown.path == "/authorize"
    query = parse_qs(shown.query)
    assert set(query) == {"client_id", "request_uri"}
    assert query["client_id"] == [stack.client_id("webapp")]
    assert query["request_uri"][0].startswith("urn:ietf:params:oauth:request_uri:")
    sign_in_and_allow(page)
    page.wait_for_selector("#where")
    at_issuer = [u for u in seen["requests"] + seen["navigations"] if u.startswith(stack.issuer)]
    assert any(urlsplit(u).path == "/authorize" for u in at_issuer)
    for url in at_issuer:
        sent = set(parse_qs(urlsplit(url).query))
        assert not sent & {"scope", "redirect_uri", "state", "nonce", "code_challenge"}, url
        if urlsplit(url).path == "/authorize":
            assert sent == {"client_id", "request_uri"}, url
