"""The sign-in and consent forms in a real browser (Chromium), where CSRF details matter.

Browsers send ``Origin: null`` on same-origin form posts from a ``no-referrer`` page and enforce
the CSP and cookie attributes for real; none of that can be seen through an ASGI transport.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import anyio
import pytest

from tests.conftest import require_service
from tests.support.apis import ensure_api
from tests.support.servers import free_port, serve_asgi
from tests.web.conftest import AUDIENCE as API
from tests.web.conftest import CB, PASSWORD, make_ctx
from tokenpath.core.pkce import s256
from tokenpath.core.records import ClientType
from tokenpath.core.registration import create_user, register_client
from tokenpath.settings import Settings
from tokenpath.storage.memory import memory_stores
from tokenpath.web import create_app

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")


def test_login_consent_and_logout_in_chromium() -> None:
    if not CHROMIUM.exists():
        require_service(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    port = free_port()
    settings = Settings(issuer=f"http://127.0.0.1:{port}")
    ctx = make_ctx(memory_stores(), settings)

    async def setup() -> str:
        await create_user(ctx=ctx, username="alice", password=PASSWORD)
        await ensure_api(ctx, API)
        client, _ = await register_client(
            ctx=ctx, name="Browser test app", client_type=ClientType.CONFIDENTIAL,
            redirect_uris=[CB], scopes=["openid", "notes:read"], resources=[API],
        )  # fmt: skip
        return client.client_id

    client_id = anyio.run(setup)
    query = urlencode(
        {"response_type": "code", "client_id": client_id, "redirect_uri": CB, "state": "st",
         "code_challenge": s256("v" * 43), "code_challenge_method": "S256"}
    )  # fmt: skip
    landed: list[str] = []
    with serve_asgi(create_app(settings, ctx=ctx), port=port) as base, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"] if os.geteuid() == 0 else []
        )
        page = browser.new_page()
        posts: list[tuple[str, str | None]] = []

        def record(request) -> None:  # type: ignore[no-untyped-def]
            if request.method == "POST":
                posts.append((request.url, request.headers.get("origin")))

        page.on("request", record)

        def callback(route) -> None:  # type: ignore[no-untyped-def]
            landed.append(route.request.url)
            route.fulfill(status=200, content_type="text/html", body="<p>client</p>")

        page.route(f"{CB}*", callback)
        page.goto(f"{base}/authorize?{query}")
        page.fill("#username", "alice")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("button[value=approve]")
        assert "Browser test app" in page.title()
        consent = page.inner_text("main")  # each API with the texts it registered
        assert API in consent and "Read your notes" in consent and "Know who you are" in consent
        page.click("button[value=approve]")
        page.wait_for_url(f"{CB}*")
        page.goto(f"{base}/logout")
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/logout/done")
        assert "You have signed out" in page.inner_text("main")
        page.goto(f"{base}/")
        assert "not signed in" in page.inner_text("main")
        browser.close()
    response = dict(parse_qsl(urlsplit(landed[0]).query))
    assert response["state"] == "st" and response["iss"] == base and response["code"]
    # The browser really did send "Origin: null" (no-referrer) and we accepted it.
    assert [origin for _, origin in posts] == ["null", "null", "null"]
