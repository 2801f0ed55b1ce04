"""Web fixtures: the real ASGI app over real stores, driven like a browser with httpx.

``Browser`` keeps cookies, reads forms out of the HTML the server sent and submits them the
way a browser would, so a test reads as the steps a person takes.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.core.conftest import FastHasher
from tests.support.apis import ensure_api
from tokenpath.core.clock import FixedClock, SecretsTokenSource
from tokenpath.core.context import Context
from tokenpath.core.ports import Stores
from tokenpath.core.records import Client, ClientType
from tokenpath.core.registration import create_user, register_client
from tokenpath.core.signing import Signer
from tokenpath.settings import Settings
from tokenpath.storage.memory import memory_stores
from tokenpath.web import create_app

ISSUER = "http://127.0.0.1:9000"
AUDIENCE = "http://127.0.0.1:9001"
"""The default API of the servers under test (registered by :meth:`Server.client`)."""
CB = "https://client.example/cb"
PASSWORD = "correct horse battery"


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)

    def value(self, name: str) -> str:
        return next(v for k, v in self.fields if k == name)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(action=a.get("action", ""), method=a.get("method", "get")))
        elif tag == "input" and self.forms and "name" in a:
            self.forms[-1].fields.append((a["name"], a.get("value", "")))
        elif tag == "button" and self.forms and "name" in a:
            self.forms[-1].buttons.append((a["name"], a.get("value", "")))


def forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def make_ctx(stores: Stores, settings: Settings, *, passwords: Any = None) -> Context:
    clock = FixedClock(int(time.time()))
    return Context(
        policy=settings.policy(),
        stores=stores,
        clock=clock,
        random=SecretsTokenSource(),
        signer=Signer(stores.keys, clock),
        passwords=passwords or FastHasher(),
    )


@dataclass
class Server:
    """One app under test and a browser-like client talking to it over ASGI."""

    settings: Settings
    ctx: Context
    http: httpx.AsyncClient

    @property
    def clock(self) -> FixedClock:
        assert isinstance(self.ctx.clock, FixedClock)
        return self.ctx.clock

    async def user(self, username: str = "alice", password: str = PASSWORD) -> None:
        await create_user(ctx=self.ctx, username=username, password=password)

    async def client(
        self, kind: ClientType = ClientType.CONFIDENTIAL, **options: Any
    ) -> tuple[Client, str | None]:
        api = await ensure_api(self.ctx, self.settings.audience or AUDIENCE)
        if not self.settings.audience:  # no default API: allow the client on it by name
            options.setdefault("resources", (api.identifier,))
        return await register_client(
            ctx=self.ctx,
            name=options.pop("name", "Notes <b>app</b>"),
            client_type=kind,
            redirect_uris=options.pop("redirect_uris", (CB,)),
            scopes=options.pop("scopes", ("openid", "profile", "notes:read")),
            **options,
        )

    async def form(self, path: str, index: int = 0) -> Form:
        response = await self.http.get(path)
        assert response.status_code == 200, response.text
        return forms(response.text)[index]

    async def submit(
        self, form: Form, button: tuple[str, str] | None = None, **overrides: str
    ) -> httpx.Response:
        data = [(k, overrides.get(k, v)) for k, v in form.fields]
        data += [(k, v) for k, v in overrides.items() if k not in dict(form.fields)]
        if button is not None:
            data.append(button)
        return await self.post_form(form.action, data)

    async def post_form(
        self, path: str, data: list[tuple[str, str]], **headers: str
    ) -> httpx.Response:
        return await self.http.post(
            path,
            content=urlencode(data),
            headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
        )

    async def sign_in(self, username: str = "alice", password: str = PASSWORD) -> httpx.Response:
        form = await self.form("/login")
        response = await self.submit(form, username=username, password=password)
        assert response.status_code == 303, response.text
        return response


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def serve(stores: Stores, *, passwords: Any = None, **options: Any) -> AsyncIterator[Server]:
    config = Settings(**{"issuer": ISSUER, "audience": AUDIENCE, **options})
    ctx = make_ctx(stores, config, passwords=passwords)
    if config.audience:
        await ensure_api(ctx)  # the default API, with the notes scopes
    app = create_app(config, ctx=ctx)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=config.issuer) as http:
        yield Server(settings=config, ctx=ctx, http=http)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    """Memory stores: fast, for the many header and parsing checks."""
    async for s in serve(memory_stores()):
        yield s


@pytest.fixture
async def https_server() -> AsyncIterator[Server]:
    async for s in serve(memory_stores(), issuer="https://as.example", host="0.0.0.0"):
        yield s
