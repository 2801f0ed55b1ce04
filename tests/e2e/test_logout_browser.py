"""OpenID Connect logout in Chromium: the web app signs out through the authorization server,
which tells the app over the back channel; the browser lands on the app's post-logout page."""

from __future__ import annotations

import sqlite3
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.e2e.conftest import Stack
from tests.e2e.flows import sign_in_and_allow


def app_sessions(stack: Stack) -> list[tuple[str, str]]:
    path = stack.webapp_db.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT id_hash, sid FROM webapp_sessions WHERE access_token IS NOT NULL"
        ).fetchall()
    return [(str(a), str(b)) for a, b in rows]


def backchannel_posts(stack: Stack) -> list[Any]:
    return [
        e
        for e in stack.recorder.exchanges
        if e.server == "webapp" and e.target == "/backchannel-logout" and e.status
    ]


def test_rp_initiated_logout_with_back_channel_in_chromium(stack: Stack, page: Any) -> None:
    page.goto(stack.webapp)
    page.click("#login")
    sign_in_and_allow(page)
    page.wait_for_selector("#claims")
    assert page.inner_text("dd[data-claim='iss']") == stack.issuer
    assert page.inner_text("dd[data-claim='aud']") == stack.client_id("webapp")
    ((_, sid),) = app_sessions(stack)
    assert sid and page.inner_text("dd[data-claim='sid']") == sid

    page.click("form[action='/logout'] button")
    page.wait_for_url(f"{stack.issuer}/logout?*")
    assert "webapp asks you to sign out" in page.inner_text("main")
    page.click("form[action='/logout/confirm'] button[type=submit]")
    page.wait_for_url(f"{stack.webapp}/signed-out?*")
    assert page.is_visible("#server-too")
    state = parse_qs(urlsplit(page.url).query)["state"]
    assert len(state) == 1 and state[0]

    # the server delivers the logout token in the background: wait for it to have arrived
    deadline = time.monotonic() + 15
    while not backchannel_posts(stack) and time.monotonic() < deadline:
        time.sleep(0.02)
    (delivery,) = backchannel_posts(stack)
    assert delivery.status == 200
    assert app_sessions(stack) == []
    page.goto(stack.webapp)
    assert page.is_visible("#login")
    page.goto(stack.issuer)
    assert "not signed in" in page.inner_text("main")
