"""End-to-end fixtures: the whole demo on real uvicorn servers, a real database, real Chromium.

``stack`` starts the authorization server, the demo API, the web-server app and the browser app
on free loopback ports over ``db_url`` (SQLite and PostgreSQL), each wrapped in a
:class:`~tests.support.recorder.RecorderMiddleware`, with users and clients registered through
the core, exactly as the CLI does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.middleware import Middleware

from tests.conftest import require_service, run_blocking
from tests.support.apis import NOTES_SCOPES
from tests.support.recorder import Recorder, RecorderMiddleware
from tests.support.servers import free_port, serve_asgi
from tokenpath.clients.spa import SpaConfig, create_spa
from tokenpath.clients.webapp import WebappConfig, create_webapp
from tokenpath.core.apis import add_api
from tokenpath.core.records import ClientType, GrantType
from tokenpath.core.registration import create_user, register_client
from tokenpath.resource import JwksCache, JwtValidator, create_demo_api
from tokenpath.runtime import build_context
from tokenpath.settings import Settings
from tokenpath.storage.passwords import Argon2PasswordHasher
from tokenpath.storage.sql import open_database
from tokenpath.web.app import create_app

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "wonderland"
SCOPES = ["openid", "profile", "notes:read", "notes:write"]


@dataclass
class Stack:
    issuer: str
    api: str
    webapp: str
    spa: str
    db_url: str
    webapp_db: str
    clients: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    recorder: Recorder = field(default_factory=Recorder)
    api_credentials: tuple[str, str] = ("", "")
    """The notes API's own client id and secret (introspection, revocation feed)."""

    def client_id(self, name: str) -> str:
        return self.clients[name][0]

    def secret(self, name: str) -> str:
        secret = self.clients[name][1]
        assert secret is not None
        return secret


async def _seed(stack: Stack, settings: Settings) -> None:
    database = await open_database(stack.db_url)
    cheap = Argon2PasswordHasher(time_cost=1, memory_cost=8192)
    ctx = build_context(settings, database.stores, passwords=cheap)
    try:
        for user in ("alice", "mallory"):
            await create_user(ctx=ctx, username=user, password=PASSWORD)
        notes, api_secret = await add_api(ctx, identifier=stack.api, scopes=NOTES_SCOPES)
        stack.api_credentials = (notes.client_id, api_secret)
        code, refresh, implicit = (
            GrantType.AUTHORIZATION_CODE,
            GrantType.REFRESH_TOKEN,
            GrantType.IMPLICIT,
        )
        specs: dict[str, dict[str, Any]] = {
            "webapp": {
                "client_type": ClientType.CONFIDENTIAL,
                "grant_types": [code, refresh],
                "redirect_uris": [f"{stack.webapp}/callback"],
            },
            "spa-pkce": {
                "client_type": ClientType.PUBLIC,
                "grant_types": [code],
                "redirect_uris": [f"{stack.spa}/"],
            },
            "spa-implicit": {
                "client_type": ClientType.PUBLIC,
                "grant_types": [implicit],
                "redirect_uris": [f"{stack.spa}/"],
            },
            "machine": {
                "client_type": ClientType.CONFIDENTIAL,
                "grant_types": [GrantType.CLIENT_CREDENTIALS],
                "redirect_uris": [],
            },
            "native": {
                "client_type": ClientType.PUBLIC,
                "grant_types": [code, refresh],
                "redirect_uris": ["http://127.0.0.1/callback"],
            },
        }
        for name, spec in specs.items():
            client, secret = await register_client(
                ctx=ctx, name=name, scopes=SCOPES, resources=[stack.api], **spec
            )
            stack.clients[name] = (client.client_id, secret)
            if name == "webapp":  # both logouts of OpenID Connect (RP-initiated, back-channel)
                await ctx.stores.clients.update(
                    dataclasses.replace(
                        client,
                        post_logout_redirect_uris=(f"{stack.webapp}/signed-out",),
                        backchannel_logout_uri=f"{stack.webapp}/backchannel-logout",
                    )
                )
    finally:
        await database.close()


def start_stack(
    db_url: str, tmp_path: Path, *, allow_implicit: bool = True, dpop_nonce: bool = False
) -> Iterator[Stack]:
    ports = [free_port() for _ in range(4)]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    stack = Stack(
        issuer=urls[0],
        api=urls[1],
        webapp=urls[2],
        spa=urls[3],
        db_url=db_url,
        webapp_db=f"sqlite+aiosqlite:///{tmp_path / 'webapp.db'}",
    )
    settings = Settings(
        issuer=stack.issuer,
        audience=stack.api,
        database_url=db_url,
        data_dir=tmp_path,
        allow_implicit=allow_implicit,
        require_dpop_nonce=dpop_nonce,
        cors_origins=[stack.spa],
    )
    run_blocking(_seed(stack, settings))

    def recorded(name: str) -> list[Middleware]:
        return [Middleware(RecorderMiddleware, recorder=stack.recorder, name=name)]

    validator = JwtValidator(
        issuer=stack.issuer, audience=stack.api, jwks=JwksCache(f"{stack.issuer}/jwks")
    )
    apps = [
        create_app(settings, middleware=recorded("as")),
        create_demo_api(validator, cors_origins=[stack.spa], middleware=recorded("api")),
        create_webapp(
            WebappConfig(
                issuer=stack.issuer,
                client_id=stack.client_id("webapp"),
                client_secret=stack.secret("webapp"),
                redirect_uri=f"{stack.webapp}/callback",
                api_base=stack.api,
                database_url=stack.webapp_db,
                scopes="openid profile notes:read",
            ),
            middleware=recorded("webapp"),
        ),
        create_spa(
            SpaConfig(
                issuer=stack.issuer,
                api_base=stack.api,
                redirect_uri=f"{stack.spa}/",
                implicit_client_id=stack.client_id("spa-implicit"),
                pkce_client_id=stack.client_id("spa-pkce"),
            ),
            middleware=recorded("spa"),
        ),
    ]
    with ExitStack() as servers:
        for app, port in zip(apps, ports, strict=True):
            servers.enter_context(serve_asgi(app, port=port))
        yield stack


@pytest.fixture
def stack(db_url: str, tmp_path: Path) -> Iterator[Stack]:
    yield from start_stack(db_url, tmp_path)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module (Playwright's sync API keeps an event loop running in this
    thread while it is open, so it must not outlive the module into async tests)."""
    if not Path(CHROMIUM).exists():
        require_service(f"Debian chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "page" in getattr(item, "fixturenames", ()) or "browser" in getattr(
            item, "fixturenames", ()
        ):
            item.add_marker(pytest.mark.browser)
