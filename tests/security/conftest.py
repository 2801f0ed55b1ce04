"""The RFC 9700 attack catalog as black-box tests: one module per catalog entry (A1…A21).

Every test talks HTTP to the real ASGI app (httpx over ``ASGITransport``), never to the core,
so it pins what an attacker can observe on the wire. A :class:`Lab` is the catalog's fixture:
the production-profile issuer ``https://as.example``, the users ``alice`` (victim) and
``mallory`` (attacker), and the registered clients

* ``conf`` — confidential, ``client_secret_basic``, code + refresh, ``https://client.example/cb``
* ``conf_multi`` — confidential, two redirect URIs (so ``redirect_uri`` is required)
* ``other`` — a second confidential client (cross-client checks)
* ``spa`` — public, PKCE, code + refresh, ``https://spa.example/cb``
* ``native`` — public, loopback ``http://127.0.0.1/cb`` (any port, RFC 8252 §7.3)
* ``implicit`` — public, ``token`` and ``id_token token``, usable only when the server allows
  implicit
* ``machine`` — confidential, client credentials only

``lab`` runs on memory stores (fast); ``db_lab`` on each database of ``db_url`` (SQLite and
PostgreSQL). The demo web app's fixtures (``stack``, ``agent``, ``other_agent``) come from
``tests/clients/webapp/conftest.py``: a real loopback stack driven like a browser; ``page`` is
Chromium (``tests/e2e/conftest.py``) for the browser app, whose checks run in JavaScript.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit

import httpx
import pytest

from tests.clients.webapp.conftest import agent, other_agent, stack  # noqa: F401 - fixtures
from tests.e2e.conftest import browser, page  # noqa: F401 - fixtures (Chromium)
from tests.support.apis import api_credentials
from tests.web.conftest import PASSWORD, Server, forms, serve
from tokenpath.core.pkce import s256
from tokenpath.core.ports import Stores
from tokenpath.core.records import Client, ClientType, GrantType, ResponseType
from tokenpath.resource import create_demo_api
from tokenpath.resource.introspection import IntrospectionValidator
from tokenpath.storage.memory import memory_stores

ISSUER = "https://as.example"
CONF_CB = "https://client.example/cb"
SPA_CB = "https://spa.example/cb"
IMPLICIT_CB = "https://spa.example/implicit-cb"
NATIVE_CB = "http://127.0.0.1/cb"
EVIL = "https://evil.example/cb"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
SCOPE = "openid notes:read"
REGISTERED = frozenset({CONF_CB, "https://client.example/other", SPA_CB, IMPLICIT_CB})


def basic(client_id: str, secret: str) -> str:
    """RFC 6749 §2.3.1: form-encode id and secret, then Base64."""
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def location_params(response: httpx.Response) -> dict[str, str]:
    """The parameters of a redirect, from the query or (token responses) the fragment."""
    parts = urlsplit(response.headers["location"])
    return dict(parse_qsl(parts.fragment or parts.query, keep_blank_values=True))


def redirect_base(response: httpx.Response) -> str:
    """The Location without query and fragment: where the browser is sent."""
    parts = urlsplit(response.headers["location"])
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def assert_not_redirected(response: httpx.Response) -> None:
    """The catalog's "no redirect": an error shown at the AS, no ``Location`` at all."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:200])
    assert "location" not in response.headers


@dataclass
class Lab:
    """One authorization server and the catalog's clients, driven like a browser."""

    server: Server
    clients: dict[str, Client] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)

    @property
    def http(self) -> httpx.AsyncClient:
        return self.server.http

    def id(self, name: str) -> str:
        return self.clients[name].client_id

    def auth(self, name: str) -> dict[str, str]:
        """Headers authenticating the named client (none for public clients)."""
        if name not in self.secrets:
            return {}
        return {"Authorization": basic(self.id(name), self.secrets[name])}

    async def register(self, name: str, kind: ClientType, **options: Any) -> None:
        client, secret = await self.server.client(kind, name=name, **options)
        self.clients[name] = client
        if secret is not None:
            self.secrets[name] = secret

    def authorize_params(self, name: str, **extra: str | None) -> dict[str, str]:
        """A valid code request for the named client; ``None`` drops a parameter."""
        client = self.clients[name]
        params: dict[str, str | None] = {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": client.redirect_uris[0] if client.redirect_uris else None,
            "scope": SCOPE,
            "state": "st-" + name,
            "code_challenge": s256(VERIFIER),
            "code_challenge_method": "S256",
        }
        params.update(extra)
        return {k: v for k, v in params.items() if v is not None}

    async def authz(self, name: str, **extra: str | None) -> httpx.Response:
        """``AUTHZ(params)``: GET /authorize for the named client with ``extra`` changes."""
        return await self.http.get("/authorize?" + urlencode(self.authorize_params(name, **extra)))

    async def sign_in(self, username: str = "alice") -> None:
        await self.server.sign_in(username)

    async def approve(self, response: httpx.Response) -> httpx.Response:
        """Answer the consent page if there is one (consent is remembered afterwards)."""
        if response.status_code == 200 and 'action="/consent"' in response.text:
            return await self.server.submit(forms(response.text)[0], ("decision", "approve"))
        return response

    async def redirect(self, name: str, **extra: str | None) -> httpx.Response:
        """A signed-in, approved authorization request: the AS's final redirect."""
        if not self.session():
            await self.sign_in()
        response = await self.approve(await self.authz(name, **extra))
        assert response.status_code in (302, 303), (response.status_code, response.text[:300])
        return response

    async def code(self, name: str, **extra: str | None) -> str:
        return location_params(await self.redirect(name, **extra))["code"]

    def session(self) -> bool:
        return any(c.name.endswith("tp_session") for c in self.http.cookies.jar)

    async def token(
        self, form: dict[str, str], *, client: str | None = None, **headers: str
    ) -> httpx.Response:
        """POST /token as the named client (Basic for confidential, ``client_id`` if public)."""
        data = dict(form)
        if client is not None:
            if client in self.secrets:
                headers = {**self.auth(client), **headers}
            else:
                data.setdefault("client_id", self.id(client))
        return await self.server.post_form("/token", list(data.items()), **headers)

    async def redeem(self, name: str, code: str, **extra: str | None) -> httpx.Response:
        """POST /token for ``code``; ``None`` drops a parameter (e.g. ``code_verifier``)."""
        client = self.clients[name]
        form: dict[str, str | None] = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": client.redirect_uris[0],
            "code_verifier": VERIFIER,
            **extra,
        }
        return await self.token({k: v for k, v in form.items() if v is not None}, client=name)

    async def tokens(self, name: str, **extra: str | None) -> dict[str, Any]:
        """Run the whole code flow for the named client; the token response body."""
        code = await self.code(name, **extra)
        pkce = "code_challenge" not in extra or extra["code_challenge"] is not None
        response = await self.redeem(name, code, code_verifier=VERIFIER if pkce else None)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def introspect(self, token: str, *, client: str = "conf") -> dict[str, Any]:
        response = await self.server.post_form(
            "/introspect", [("token", token)], **self.auth(client)
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def metadata(self) -> dict[str, Any]:
        response = await self.http.get("/.well-known/oauth-authorization-server")
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        return body


@asynccontextmanager
async def demo_api(lab: Lab) -> AsyncIterator[httpx.AsyncClient]:
    """The demo resource server, validating tokens by introspection at the lab's AS (so it
    sees revocation at once), as an httpx client. It introspects with the API's own
    credentials: only those are entitled to learn about every client's tokens for it."""
    api_id, api_secret = await api_credentials(lab.server.ctx)
    validator = IntrospectionValidator(
        introspection_endpoint=f"{ISSUER}/introspect",
        client_id=api_id,
        client_secret=api_secret,
        issuer=ISSUER,
        audience=lab.server.ctx.policy.audience,
        http=lab.http,
        cache_seconds=0,
    )
    transport = httpx.ASGITransport(app=create_demo_api(validator))
    async with httpx.AsyncClient(transport=transport, base_url="https://rs.example") as rs:
        yield rs


async def open_lab(stores: Stores, **settings: Any) -> AsyncIterator[Lab]:
    """A production-profile server (https issuer) with the catalog's users and clients."""
    async for server in serve(stores, issuer=ISSUER, **settings):
        lab = Lab(server)
        await server.user("alice", PASSWORD)
        await server.user("mallory", PASSWORD)
        code, refresh = GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN
        confidential, public = ClientType.CONFIDENTIAL, ClientType.PUBLIC
        await lab.register(
            "conf", confidential, redirect_uris=(CONF_CB,), grant_types=(code, refresh)
        )
        await lab.register(
            "conf_multi", confidential, redirect_uris=(CONF_CB, "https://client.example/other")
        )
        await lab.register(
            "other", confidential, redirect_uris=(CONF_CB,), grant_types=(code, refresh)
        )
        await lab.register("spa", public, redirect_uris=(SPA_CB,), grant_types=(code, refresh))
        await lab.register(
            "native", public, redirect_uris=(NATIVE_CB,), grant_types=(code, refresh)
        )
        await lab.register(
            "implicit",
            public,
            redirect_uris=(IMPLICIT_CB,),
            grant_types=(GrantType.IMPLICIT,),
            response_types=(ResponseType.TOKEN, ResponseType.ID_TOKEN_TOKEN),
        )
        await lab.register(
            "machine", confidential, redirect_uris=(), grant_types=(GrantType.CLIENT_CREDENTIALS,)
        )
        yield lab


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def lab() -> AsyncIterator[Lab]:
    """The default configuration (implicit off, OAuth 2.0 PKCE policy), memory stores."""
    async for lab in open_lab(memory_stores()):
        yield lab


@pytest.fixture
async def implicit_lab() -> AsyncIterator[Lab]:
    """Implicit switched on globally (the lab's legacy OAuth 2.0 mode)."""
    async for lab in open_lab(memory_stores(), allow_implicit=True):
        yield lab


@pytest.fixture
async def db_lab(stores: Stores) -> AsyncIterator[Lab]:
    """The default configuration on a real database: SQLite and PostgreSQL (``db_url``)."""
    async for lab in open_lab(stores):
        yield lab
