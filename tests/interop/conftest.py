"""Interop fixtures: the authorization server as ``tokenpath serve`` runs it, and the third-party
client libraries' own runtimes (node packages, Chromium).

* ``node_packages`` installs ``tests/interop/node`` from its lock file (``npm ci``) when
  ``node_modules`` is missing or older than the lock. Without ``node``/``npm`` a local run skips
  with the reason; with ``CI=true`` it fails, as the PostgreSQL and Chromium fixtures do.
* ``server`` runs the real ASGI app on a free loopback port over ``db_url`` (or ``sqlite_server``
  over SQLite alone), seeded with a user who has standard claims (OIDC Core §5.1) and one
  registered client per library, so each library starts from nothing but the issuer URL.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_service, run_blocking
from tests.e2e.conftest import browser, page  # noqa: F401 - Chromium, launched as e2e does
from tests.support.apis import ensure_api
from tests.support.servers import free_port, serve_asgi
from tokenpath.core.records import ClientType, GrantType, User
from tokenpath.core.registration import register_client
from tokenpath.runtime import build_context
from tokenpath.settings import Settings
from tokenpath.storage.passwords import Argon2PasswordHasher
from tokenpath.storage.sql import open_database
from tokenpath.web.app import create_app

NODE_DIR = Path(__file__).parent / "node"
USERNAME = "alice"
PASSWORD = "wonderland"
CLAIMS: dict[str, Any] = {
    "name": "Alice Liddell",
    "given_name": "Alice",
    "family_name": "Liddell",
    "preferred_username": "alice",
    "email": "alice@example.org",
    "email_verified": True,
}
SCOPES = ["openid", "profile", "email"]
NOTES_API = "https://notes.interop.example"
"""A registered API the oauth4webapi clients are allowed on: their access tokens are for it."""

# name -> (client type, token endpoint authentication, path of its redirect URI)
CLIENTS: dict[str, tuple[ClientType, str, str]] = {
    "openid-client": (ClientType.CONFIDENTIAL, "client_secret_post", "/openid-client/callback"),
    "authlib": (ClientType.CONFIDENTIAL, "client_secret_basic", "/authlib/callback"),
    "requests-oauthlib": (
        ClientType.CONFIDENTIAL,
        "client_secret_basic",
        "/requests-oauthlib/callback",
    ),
    "oidc-client-ts": (ClientType.PUBLIC, "none", "/callback.html"),
    "oauth4webapi": (ClientType.CONFIDENTIAL, "client_secret_basic", "/oauth4webapi/callback"),
    "oauth4webapi-public": (ClientType.PUBLIC, "none", "/oauth4webapi-public/callback"),
}


@dataclass
class Server:
    """A running authorization server and what was registered at it."""

    issuer: str
    app_origin: str
    """Where the confidential clients' redirect URIs point (nothing listens: the test reads the
    redirect the authorization server answers with)."""
    page_origin: str
    """The browser test page's own origin, allowed for CORS."""
    db_url: str
    user_id: str = ""
    clients: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    def client_id(self, name: str) -> str:
        return self.clients[name][0]

    def secret(self, name: str) -> str:
        secret = self.clients[name][1]
        assert secret is not None
        return secret

    def redirect_uri(self, name: str) -> str:
        origin = self.page_origin if name == "oidc-client-ts" else self.app_origin
        return f"{origin}{CLIENTS[name][2]}"

    def environment(self) -> dict[str, str]:
        """``TOKENPATH_*`` variables that point the CLI at this server's database."""
        return {
            "TOKENPATH_ISSUER": self.issuer,
            "TOKENPATH_DATABASE_URL": self.db_url,
        }


async def _seed(server: Server, settings: Settings) -> None:
    database = await open_database(server.db_url)
    cheap = Argon2PasswordHasher(time_cost=1, memory_cost=8192)
    ctx = build_context(settings, database.stores, passwords=cheap)
    try:
        user = User(
            user_id=ctx.random.token(16),
            username=USERNAME,
            password_hash=await cheap.hash(PASSWORD),
            claims=json.dumps(CLAIMS),
            created_at=ctx.clock.now(),
        )
        await ctx.stores.users.add(user)
        server.user_id = user.user_id
        await ensure_api(ctx, NOTES_API)
        for name, (client_type, auth, _path) in CLIENTS.items():
            client, secret = await register_client(
                ctx=ctx,
                name=name,
                client_type=client_type,
                redirect_uris=[server.redirect_uri(name)],
                scopes=SCOPES,
                grant_types=[GrantType.AUTHORIZATION_CODE],
                require_pkce=True,
                token_endpoint_auth_method=auth,
                resources=[NOTES_API] if name.startswith("oauth4webapi") else [],
            )
            server.clients[name] = (client.client_id, secret)
    finally:
        await database.close()


def start_server(db_url: str, tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    server = Server(
        issuer=f"http://127.0.0.1:{port}",
        app_origin=f"http://127.0.0.1:{free_port()}",
        page_origin=f"http://127.0.0.1:{free_port()}",
        db_url=db_url,
    )
    settings = Settings(
        issuer=server.issuer,
        database_url=db_url,
        data_dir=tmp_path,
        cors_origins=[server.page_origin],
    )
    run_blocking(_seed(server, settings))
    with serve_asgi(create_app(settings), port=port):
        yield server


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[Server]:
    """The authorization server on SQLite and on PostgreSQL."""
    yield from start_server(db_url, tmp_path)


@pytest.fixture
def sqlite_server(sqlite_url: str, tmp_path: Path) -> Iterator[Server]:
    """The authorization server on SQLite alone (for the slower, browser-driven runs)."""
    yield from start_server(sqlite_url, tmp_path)


def _stale(node_modules: Path, lock: Path) -> bool:
    installed = node_modules / ".package-lock.json"  # npm writes it on every install
    return not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime


@pytest.fixture(scope="session")
def node_packages() -> Path:
    """``tests/interop/node`` with its locked packages installed; the directory is returned."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        require_service(
            "node and npm are needed for the node client libraries (apt-get install nodejs npm)"
        )
    assert npm is not None
    if _stale(NODE_DIR / "node_modules", NODE_DIR / "package-lock.json"):
        command = [npm, "ci", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            pytest.fail(f"npm ci failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return NODE_DIR
