"""The whole lab stack on real uvicorn servers for the attack tests, once per module.

Authorization server (implicit on, as in ``tokenpath demo``), demo API, web-server app, browser
app, the attacker's origin and a lab app that mounts the playground at ``/attacks`` and the
advisor at ``/advisor``, each on its own free loopback port, over a SQLite file in a temporary
data directory. The demo user and clients are made as ``tokenpath demo`` makes them; the lab's
own actors (Mallory, the vulnerable clients) are registered by the first attack, as in the demo.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

import tokenpath.lab as lab_package
from tests.conftest import run_blocking
from tests.e2e.conftest import browser  # noqa: F401 - Chromium, launched as e2e does
from tests.support.apis import ensure_api
from tests.support.servers import free_port, serve_asgi
from tokenpath.clients.spa import SpaConfig, create_spa
from tokenpath.clients.webapp import WebappConfig, create_webapp
from tokenpath.core.records import ClientType, GrantType
from tokenpath.core.registration import create_user, register_client
from tokenpath.lab import advisor_pages
from tokenpath.lab.attacks import AttackTarget, create_attacker_app, routes
from tokenpath.resource import JwksCache, JwtValidator, create_demo_api
from tokenpath.runtime import build_context, migrate
from tokenpath.settings import Settings, sqlite_url
from tokenpath.storage.passwords import Argon2PasswordHasher
from tokenpath.storage.sql import open_database
from tokenpath.web.app import create_app

PASSWORD = "wonderland"
SCOPES = ["openid", "profile", "notes:read", "notes:write"]


async def _seed(settings: Settings, urls: dict[str, str]) -> dict[str, tuple[str, str | None]]:
    database = await open_database(settings.database_url)
    cheap = Argon2PasswordHasher(time_cost=1, memory_cost=8192)
    ctx = build_context(settings, database.stores, passwords=cheap)
    code, refresh = GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN
    specs = {
        "webapp": (ClientType.CONFIDENTIAL, [code, refresh], f"{urls['webapp']}/callback"),
        "spa-pkce": (ClientType.PUBLIC, [code], f"{urls['spa']}/"),
        "spa-implicit": (ClientType.PUBLIC, [GrantType.IMPLICIT], f"{urls['spa']}/"),
        "native": (ClientType.PUBLIC, [code, refresh], "http://127.0.0.1/callback"),
    }
    clients: dict[str, tuple[str, str | None]] = {}
    try:
        await create_user(ctx=ctx, username="alice", password=PASSWORD)
        await ensure_api(ctx, urls["api"])
        for name, (kind, grants, redirect) in specs.items():
            client, secret = await register_client(
                ctx=ctx,
                name=f"demo {name}",
                client_type=kind,
                redirect_uris=[redirect],
                scopes=SCOPES,
                grant_types=grants,
                require_pkce=name == "webapp",
                resources=[urls["api"]],
            )
            clients[name] = (client.client_id, secret)
    finally:
        await database.close()
    return clients


def start_lab(data_dir: Path) -> Iterator[AttackTarget]:
    names = ("as", "api", "webapp", "spa", "attacker", "lab")
    ports = {name: free_port() for name in names}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    settings = Settings(
        issuer=urls["as"],
        audience=urls["api"],
        database_url=sqlite_url(data_dir / "tokenpath.db"),
        data_dir=data_dir,
        allow_implicit=True,
        require_dpop_nonce=True,  # as the demo: DPoP proofs must carry the server's nonce
        cors_origins=[urls["spa"], urls["lab"]],
    )
    migrate(settings)
    clients = run_blocking(_seed(settings, urls))
    webapp_secret = clients["webapp"][1]
    assert webapp_secret is not None
    target = AttackTarget(
        issuer=urls["as"],
        api_url=urls["api"],
        webapp_url=urls["webapp"],
        spa_url=urls["spa"],
        attacker_url=urls["attacker"],
        lab_url=urls["lab"],
        webapp_client_id=clients["webapp"][0],
        webapp_client_secret=webapp_secret,
        spa_implicit_client_id=clients["spa-implicit"][0],
        spa_pkce_client_id=clients["spa-pkce"][0],
        native_client_id=clients["native"][0],
        username="alice",
        password=PASSWORD,
        data_dir=data_dir,
    )
    validator = JwtValidator(
        issuer=target.issuer, audience=target.api_url, jwks=JwksCache(f"{target.issuer}/jwks")
    )
    lab = Starlette(
        routes=[
            # the lab's own stylesheet and icon, which lab_base.html links
            Mount("/static", StaticFiles(directory=Path(lab_package.__file__).parent / "static")),
            Mount("/attacks", routes=routes(target)),
            Mount("/advisor", routes=advisor_pages.routes()),
        ]
    )
    apps = {
        "as": create_app(settings),
        "api": create_demo_api(validator, cors_origins=[target.spa_url, target.lab_url]),
        "webapp": create_webapp(
            WebappConfig(
                issuer=target.issuer,
                client_id=target.webapp_client_id,
                client_secret=webapp_secret,
                redirect_uri=f"{target.webapp_url}/callback",
                api_base=target.api_url,
                database_url=sqlite_url(data_dir / "webapp.db"),
                scopes="openid profile notes:read",
            )
        ),
        "spa": create_spa(
            SpaConfig(
                issuer=target.issuer,
                api_base=target.api_url,
                redirect_uri=f"{target.spa_url}/",
                implicit_client_id=target.spa_implicit_client_id,
                pkce_client_id=target.spa_pkce_client_id,
            )
        ),
        "attacker": create_attacker_app(target),
        "lab": lab,
    }
    with ExitStack() as servers:
        for name in names:
            servers.enter_context(serve_asgi(apps[name], port=ports[name]))
        yield target


@pytest.fixture(scope="module")
def lab_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AttackTarget]:
    yield from start_lab(tmp_path_factory.mktemp("lab"))
