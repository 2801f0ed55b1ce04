"""``oidc-client-ts`` (v3), unmodified, in Chromium against the real server.

A static page on its own loopback origin (``page/``) configures a ``UserManager`` with the issuer
as ``authority``, a public client registered for that origin, ``response_type=code``,
``loadUserInfo`` (the profile claims come from ``/userinfo``) and an in-memory user store; it
calls ``signinRedirect()``, a person signs in and allows, and ``signinCallback()`` finishes. The
library reads discovery, sends PKCE S256 and ``state`` on its own, and redeems the code from the
browser, so the server must allow the page's origin for CORS.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from tests.e2e.flows import sign_in_and_allow
from tests.interop.conftest import CLAIMS, Server
from tests.support.servers import serve_asgi

pytestmark = pytest.mark.browser

PAGE = Path(__file__).parent / "page"


def page_app(server: Server, node_dir: Path) -> Starlette:
    """The test page: its HTML, its script, the library's browser bundle and its settings."""
    bundle = node_dir / "node_modules" / "oidc-client-ts" / "dist" / "browser"
    settings = {
        "authority": server.issuer,
        "client_id": server.client_id("oidc-client-ts"),
        "redirect_uri": server.redirect_uri("oidc-client-ts"),
    }

    def file(path: Path) -> Any:
        async def serve(request: Request) -> Response:
            return FileResponse(path, headers={"Cache-Control": "no-store"})

        return serve

    async def config(request: Request) -> Response:
        body = f"window.interopConfig = {json.dumps(settings)};\n"
        return Response(body, media_type="text/javascript")

    return Starlette(
        routes=[
            Route("/", file(PAGE / "index.html")),
            Route("/callback.html", file(PAGE / "index.html")),
            Route("/app.js", file(PAGE / "app.js")),
            Route("/oidc-client-ts.min.js", file(bundle / "oidc-client-ts.min.js")),
            Route("/config.js", config),
        ]
    )


@contextmanager
def served_page(server: Server, node_dir: Path) -> Iterator[str]:
    port = int(server.page_origin.rsplit(":", 1)[1])
    with serve_asgi(page_app(server, node_dir), port=port) as origin:
        yield origin


def web_storage(page: Any) -> str:
    dump: str = page.evaluate(
        "() => JSON.stringify({local: {...localStorage}, session: {...sessionStorage}})"
    )
    return dump


def test_signin_redirect_and_callback_keep_the_user_in_memory(
    node_packages: Path, sqlite_server: Server, page: Any
) -> None:
    server = sqlite_server
    with served_page(server, node_packages) as origin:
        page.goto(f"{origin}/")
        page.click("#sign-in")
        page.wait_for_selector("input[name=username], body[data-state=error]")
        assert page.evaluate("window.interop?.error ?? null") is None
        sign_in_and_allow(page)
        page.wait_for_selector("body[data-state=signed-in], body[data-state=error]")
        error = page.evaluate("window.interop.error")
        assert error is None, error
        result = page.evaluate("window.interop.result")
        profile = result["profile"]
        assert profile["sub"] == server.user_id and profile["iss"] == server.issuer
        assert {k: profile[k] for k in CLAIMS} == CLAIMS
        assert profile["aud"] in (
            server.client_id("oidc-client-ts"),
            [server.client_id("oidc-client-ts")],
        )
        assert result["token_type"].lower() == "bearer"
        assert sorted(result["scope"].split()) == ["email", "openid", "profile"]
        assert result["kept_in_memory"] is True
        # no token in Web Storage: the sign-in state is gone too once the callback is done
        stored = web_storage(page)
        assert result["access_token"] not in stored and result["id_token"] not in stored
        assert json.loads(stored) == {"local": {}, "session": {}}
        # memory only: a new page load forgets the user
        page.goto(f"{origin}/")
        page.wait_for_function("window.interop !== undefined")
        assert page.evaluate("window.interop.manager.getUser()") is None
