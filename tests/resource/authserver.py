"""A real tokenpath authorization server for the sample-app tests, and a WSGI server runner.

The server runs under uvicorn on loopback over a SQLite file, with one confidential machine
client (client credentials, scopes ``notes:read notes:write``) registered through the core as
the CLI does; its tokens carry the sample API's identifier as ``aud``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from werkzeug.serving import make_server

from tests.conftest import run_blocking
from tests.support.apis import api_credentials
from tests.support.dpop import Prover
from tests.support.servers import free_port, serve_asgi
from tokenpath.core.records import ClientType, GrantType
from tokenpath.core.registration import register_client
from tokenpath.runtime import build_context, migrate
from tokenpath.settings import Settings
from tokenpath.storage.passwords import Argon2PasswordHasher
from tokenpath.storage.sql import open_database
from tokenpath.web.app import create_app

API = "https://notes.example"
"""The sample API's identifier: the ``aud`` of the tokens the server issues for it."""
SCOPES = ["notes:read", "notes:write"]


@dataclass(frozen=True)
class AuthServer:
    issuer: str
    client_id: str
    client_secret: str
    api_credentials: tuple[str, str] = ("", "")
    """The API's own client id and secret (introspection, the revocation feed)."""

    def token(self, scope: str) -> str:
        """A fresh access token for the machine client (client credentials, RFC 6749 §4.4)."""
        response = httpx.post(
            f"{self.issuer}/token",
            data={"grant_type": "client_credentials", "scope": scope},
            auth=(self.client_id, self.client_secret),
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def dpop_token(self, scope: str, key: Prover) -> str:
        """A token bound to ``key`` (RFC 9449 §5): the token request carries its proof."""
        proof = key.proof("POST", f"{self.issuer}/token")
        response = httpx.post(
            f"{self.issuer}/token",
            data={"grant_type": "client_credentials", "scope": scope},
            auth=(self.client_id, self.client_secret),
            headers={"DPoP": proof},
        )
        assert response.status_code == 200, response.text
        assert response.json()["token_type"] == "DPoP"
        return str(response.json()["access_token"])


async def _register(settings: Settings) -> tuple[str, str, tuple[str, str]]:
    database = await open_database(settings.database_url)
    try:
        ctx = build_context(
            settings, database.stores, passwords=Argon2PasswordHasher(time_cost=1, memory_cost=8192)
        )
        credentials = await api_credentials(ctx, API)
        client, secret = await register_client(
            ctx=ctx,
            name="notes-machine",
            client_type=ClientType.CONFIDENTIAL,
            grant_types=[GrantType.CLIENT_CREDENTIALS],
            redirect_uris=[],
            scopes=SCOPES,
            resources=[API],
        )
    finally:
        await database.close()
    assert secret is not None
    return client.client_id, secret, credentials


@contextmanager
def running_authorization_server(data_dir: Path) -> Iterator[AuthServer]:
    port = free_port()
    settings = Settings(
        issuer=f"http://127.0.0.1:{port}",
        audience=API,
        database_url=f"sqlite+aiosqlite:///{data_dir / 'tokenpath.db'}",
        data_dir=data_dir,
    )
    migrate(settings)
    client_id, secret, credentials = run_blocking(_register(settings))
    with serve_asgi(create_app(settings), port=port) as url:
        yield AuthServer(url, client_id, secret, api_credentials=credentials)


@contextmanager
def serve_wsgi(app: object) -> Iterator[str]:
    """Run a WSGI app under werkzeug's threaded server on loopback until the block ends."""
    server = make_server("127.0.0.1", 0, app, threaded=True)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, name="wsgi", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=20)
        server.server_close()
