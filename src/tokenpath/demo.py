"""The local demo: every part of tokenpath on loopback, in one process (``tokenpath demo``).

It starts the authorization server (implicit switched on, loudly, so both flows can be compared),
the demo API, the confidential web-server app, the browser app and the flow lab (with the attack
playground's attacker origin when it is installed), on a SQLite file under the data directory;
creates the demo user and clients on first start and reuses them afterwards. Every server is
wrapped in the lab's recorder, which keeps nothing unless a lab run is in progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import uvicorn

from tokenpath.core.apis import add_api
from tokenpath.core.context import Context
from tokenpath.core.records import ApiScope, Client, ClientType, GrantType
from tokenpath.core.registration import create_user, register_client
from tokenpath.core.users import update_user_claims
from tokenpath.runtime import load_settings, migrate, opened, uvicorn_options
from tokenpath.settings import Settings, sqlite_url

if TYPE_CHECKING:
    from starlette.types import ASGIApp

__all__ = [
    "DEMO_CLAIMS",
    "DEMO_PASSWORD",
    "DEMO_USERNAME",
    "DemoPorts",
    "ensure_demo_api",
    "ensure_demo_data",
    "ensure_demo_kek",
    "ensure_machine_client",
    "run_demo",
]

DEMO_USERNAME = "alice"
DEMO_PASSWORD = "wonderland"
DEMO_CLAIMS: dict[str, object] = {
    "name": "Alice Liddell",
    "given_name": "Alice",
    "family_name": "Liddell",
    "email": "alice@example.com",
    "email_verified": True,
}
"""The demo user's standard claims (OIDC Core §5.1), released by the profile and email scopes."""
DEMO_SCOPES = ("openid", "profile", "notes:read", "notes:write")
WEBAPP_SCOPES = (*DEMO_SCOPES, "email")
"""The web app signs in with OpenID Connect and shows the ID token's profile and email claims."""
DEMO_CLIENT_FILE = "demo-client.json"
MACHINE_CLIENT_FILE = "machine-client.json"
API_CREDENTIALS_FILE = "api-credentials.json"
DEMO_API_SCOPES = (
    ApiScope(name="notes:read", description="Read your notes"),
    ApiScope(name="notes:write", description="Create, change and delete your notes"),
)
"""The demo notes API's scopes, with the texts the consent page shows."""
DEMO_API = "http://127.0.0.1:9001"
"""The demo notes API's identifier (its origin) at the default ports."""


def _read_saved_client(path: Path) -> dict[str, str] | None:
    if not path.exists():
        return None
    saved = json.loads(path.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in saved.items()} if isinstance(saved, dict) else None


def _save_client(path: Path, client_id: str, secret: str) -> None:
    """Write the secret readable by its owner only (0600, also when the file already existed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump({"client_id": client_id, "client_secret": secret}, file)


DEMO_KEK_FILE = "key-encryption-key"


def ensure_demo_kek(data_dir: Path) -> Path:
    """The demo's own key-encryption key, made on first start (0600) and reused afterwards, so
    its signing keys are wrapped at rest exactly as a deployment's are."""
    from tokenpath.storage.key_encryption import generate_kek

    path = data_dir / DEMO_KEK_FILE
    if not path.exists():
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(generate_kek() + "\n")
    return path


async def ensure_demo_api(ctx: Context, identifier: str) -> None:
    """The demo notes API as a registered API (its credentials are not needed: the demo API
    validates JWTs with the published keys)."""
    if await ctx.stores.apis.get(identifier) is None:
        await add_api(ctx, identifier=identifier, scopes=DEMO_API_SCOPES)


async def demo_api_credentials(ctx: Context, data_dir: Path, identifier: str) -> tuple[str, str]:
    """The demo API's own credentials, which its revocation feed reader authenticates with;
    kept in the data directory like the web app's, re-issued if that file was lost."""
    from tokenpath.core.lifecycle import rotate_client_secret

    await ensure_demo_api(ctx, identifier)
    api = await ctx.stores.apis.get(identifier)
    assert api is not None
    path = data_dir / API_CREDENTIALS_FILE
    saved = await asyncio.to_thread(_read_saved_client, path)
    if saved is not None and saved.get("client_id") == api.client_id and "client_secret" in saved:
        return api.client_id, saved["client_secret"]
    _, secret = await rotate_client_secret(ctx, api.client_id)
    await asyncio.to_thread(_save_client, path, api.client_id, secret)
    return api.client_id, secret


async def ensure_demo_data(
    ctx: Context, data_dir: Path, redirect_uri: str, api: str = DEMO_API
) -> tuple[str, str]:
    """The demo user, the notes API and the confidential client allowed on it, created on first
    start and reused afterwards.

    The client secret exists in clear only in ``<data_dir>/demo-client.json`` (mode 0600): the
    database keeps its hash, so a restart must read it back from there.
    """
    await ensure_demo_api(ctx, api)
    existing_user = await ctx.stores.users.get_by_username(DEMO_USERNAME)
    if existing_user is None:
        await create_user(
            ctx=ctx, username=DEMO_USERNAME, password=DEMO_PASSWORD, claims=DEMO_CLAIMS
        )
    elif existing_user.claims == "{}":  # made before users had claims
        await update_user_claims(ctx, DEMO_USERNAME, DEMO_CLAIMS)
    path = data_dir / DEMO_CLIENT_FILE
    saved = await asyncio.to_thread(_read_saved_client, path)
    if saved is not None and "client_secret" in saved:
        existing = await ctx.stores.clients.get(saved.get("client_id", ""))
        if existing is not None and existing.redirect_uris == (redirect_uri,):
            await _webapp_logout(ctx, existing, redirect_uri, api)
            return existing.client_id, saved["client_secret"]
    registered, secret = await register_client(
        ctx=ctx,
        name="tokenpath demo notes app",
        client_type=ClientType.CONFIDENTIAL,
        redirect_uris=[redirect_uri],
        scopes=WEBAPP_SCOPES,
        grant_types=[GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN],
        require_pkce=True,
        resources=[api],
    )
    assert secret is not None
    await _webapp_logout(ctx, registered, redirect_uri, api)
    await asyncio.to_thread(_save_client, path, registered.client_id, secret)
    return registered.client_id, secret


async def _webapp_logout(ctx: Context, client: Client, redirect_uri: str, api: str) -> None:
    """The web app's RP-Initiated and Back-Channel Logout URIs (and the email scope and the notes
    API, which clients registered by earlier versions lack), next to its ``/callback``."""
    origin = redirect_uri.removesuffix("/callback")
    wanted = dataclasses.replace(
        client,
        scopes=tuple(dict.fromkeys((*client.scopes, *WEBAPP_SCOPES))),
        post_logout_redirect_uris=(f"{origin}/signed-out",),
        backchannel_logout_uri=f"{origin}/backchannel-logout",
        resources=tuple(dict.fromkeys((*client.resources, api))),
    )
    if wanted != client:
        await ctx.stores.clients.update(wanted)


async def ensure_machine_client(
    ctx: Context, data_dir: Path, api: str = DEMO_API
) -> tuple[str, str]:
    """The lab's machine-to-machine client (client credentials), kept like the web app's."""
    path = data_dir / MACHINE_CLIENT_FILE
    saved = await asyncio.to_thread(_read_saved_client, path)
    known = saved is not None and "client_secret" in saved
    if saved is not None and known and await ctx.stores.clients.get(saved.get("client_id", "")):
        return saved["client_id"], saved["client_secret"]
    registered, secret = await register_client(
        ctx=ctx,
        name="tokenpath lab machine client",
        client_type=ClientType.CONFIDENTIAL,
        redirect_uris=[],
        scopes=("notes:read",),
        grant_types=[GrantType.CLIENT_CREDENTIALS],
        resources=[api],
    )
    assert secret is not None
    await asyncio.to_thread(_save_client, path, registered.client_id, secret)
    return registered.client_id, secret


@dataclass(frozen=True, slots=True)
class DemoPorts:
    """One loopback port per origin; ``tokenpath compare`` passes free ones."""

    as_port: int = 9000
    api_port: int = 9001
    app_port: int = 9002
    spa_port: int = 9003
    lab_port: int = 9004
    attacker_port: int = 9005


@dataclass(frozen=True, slots=True)
class PublicClient:
    """A demo public client: found by name on restart (it has no secret to keep)."""

    name: str
    flow: str
    grant_types: tuple[GrantType, ...]
    redirect_uri: str


async def ensure_public_client(ctx: Context, spec: PublicClient, api: str = DEMO_API) -> str:
    for existing in await ctx.stores.clients.list():
        if existing.client_name == spec.name and existing.redirect_uris == (spec.redirect_uri,):
            if api not in existing.resources:  # registered before APIs were records
                resources = (*existing.resources, api)
                await ctx.stores.clients.update(dataclasses.replace(existing, resources=resources))
            return existing.client_id
    registered, _ = await register_client(
        ctx=ctx,
        name=spec.name,
        client_type=ClientType.PUBLIC,
        redirect_uris=[spec.redirect_uri],
        scopes=DEMO_SCOPES,
        grant_types=spec.grant_types,
        resources=[api],
    )
    return registered.client_id


def demo_public_clients(spa_port: int) -> list[PublicClient]:
    spa = f"{_loopback(spa_port)}/"
    code, refresh = GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN
    return [
        PublicClient("tokenpath demo browser app (code + PKCE)", "code + PKCE", (code,), spa),
        PublicClient(
            "tokenpath demo browser app (implicit)", "implicit", (GrantType.IMPLICIT,), spa
        ),
        PublicClient(
            "tokenpath CLI", "code + PKCE, loopback", (code, refresh), "http://127.0.0.1/callback"
        ),
    ]


class _SharedSignalServer(uvicorn.Server):
    """A uvicorn server that leaves signals to the demo, which stops every server at once."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _loopback(port: int) -> str:
    return f"http://127.0.0.1:{port}"


async def run_demo(
    data_dir: Path,
    ports: DemoPorts,
    *,
    chromium: str | None = None,
    banner: bool = True,
    ready: asyncio.Event | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve the demo until a signal (or ``stop``); ``ready`` is set once every server runs."""
    from tokenpath.clients.spa import SpaConfig, create_spa
    from tokenpath.clients.webapp import WebappConfig, create_webapp
    from tokenpath.resource import JwksCache, JwtValidator, RevocationFeed, create_demo_api
    from tokenpath.web import create_app

    spa_origin = _loopback(ports.spa_port)
    # the lab's deliberately vulnerable browser pages (attack playground) call /token and the API
    browser_origins = [spa_origin, _loopback(ports.lab_port)]
    settings = load_settings(
        issuer=_loopback(ports.as_port),
        data_dir=data_dir,
        database_url=sqlite_url(data_dir / "tokenpath.db"),
        host="127.0.0.1",
        port=ports.as_port,
        allow_implicit=True,  # the demo shows both flows; `serve` keeps implicit off
        require_dpop_nonce=True,  # DPoP proofs carry a server nonce (RFC 9449 §8); bearer unchanged
        cors_origins=browser_origins,
        key_encryption_key_file=await asyncio.to_thread(ensure_demo_kek, data_dir),
    )
    await asyncio.to_thread(migrate, settings)
    redirect_uri = f"{_loopback(ports.app_port)}/callback"
    async with opened(settings) as ctx:
        api = _loopback(ports.api_port)
        client_id, secret = await ensure_demo_data(ctx, data_dir, redirect_uri, api)
        public = {
            spec.flow: (spec, await ensure_public_client(ctx, spec, api))
            for spec in demo_public_clients(ports.spa_port)
        }
        machine = await ensure_machine_client(ctx, data_dir, api)
        site = _lab_site(data_dir, ports, (client_id, secret), public, machine, chromium)
        spa = create_spa(
            SpaConfig(
                issuer=settings.issuer,
                api_base=_loopback(ports.api_port),
                redirect_uri=f"{spa_origin}/",
                implicit_client_id=public["implicit"][1],
                pkce_client_id=public["code + PKCE"][1],
            ),
            middleware=site.middleware("spa"),
        )
        webapp = create_webapp(
            WebappConfig(
                issuer=settings.issuer,
                client_id=client_id,
                client_secret=secret,
                redirect_uri=redirect_uri,
                api_base=_loopback(ports.api_port),
                database_url=sqlite_url(data_dir / "webapp.db"),
                scopes=" ".join(WEBAPP_SCOPES),
            ),
            middleware=site.middleware("webapp"),
        )
        # the demo API learns of revoked tokens from the feed, with no call per request
        api_id, api_secret = await demo_api_credentials(ctx, data_dir, api)
        feed = RevocationFeed(issuer=settings.issuer, client_id=api_id, client_secret=api_secret)
        validator = JwtValidator(
            issuer=settings.issuer,
            audience=api,
            jwks=JwksCache(settings.policy().endpoint("/jwks")),
            revocations=feed,
        )
        apps: list[tuple[ASGIApp, int]] = [
            (create_app(settings, ctx=ctx, middleware=site.middleware("as")), ports.as_port),
            (
                create_demo_api(
                    validator, cors_origins=browser_origins, middleware=site.middleware("api")
                ),
                ports.api_port,
            ),
            (webapp, ports.app_port),
            (spa, ports.spa_port),
            (site.app, ports.lab_port),
        ]
        if site.attacker is not None:
            apps.append((site.attacker, ports.attacker_port))
        options = uvicorn_options() | ({} if banner else {"log_level": "warning"})
        servers = [
            _SharedSignalServer(uvicorn.Config(app, host="127.0.0.1", port=port, **options))
            for app, port in apps
        ]
        _stop_all_on_signal(servers, stop)

        async def announce() -> None:
            while not all(server.started for server in servers):
                if any(server.should_exit for server in servers):
                    return
                await asyncio.sleep(0.05)
            await feed.start()  # once the authorization server answers
            if banner:
                _print_banner(settings, ports, client_id, public, site.attacker is not None)
            if ready is not None:
                ready.set()

        try:
            await asyncio.gather(*(server.serve() for server in servers), announce())
        finally:
            await feed.aclose()


def _lab_site(
    data_dir: Path,
    ports: DemoPorts,
    webapp: tuple[str, str],
    public: dict[str, tuple[PublicClient, str]],
    machine: tuple[str, str],
    chromium: str | None,
) -> Any:
    """The flow lab (a ``tokenpath.lab.site.LabSite``), told every origin and client of this
    demo. Typed loosely: only functions of the demo may import the lab (tests/test_layering.py)."""
    from tokenpath.lab.browser import find_chromium
    from tokenpath.lab.config import LabConfig
    from tokenpath.lab.site import build_lab_site

    return build_lab_site(
        LabConfig(
            issuer=_loopback(ports.as_port),
            api_url=_loopback(ports.api_port),
            webapp_url=_loopback(ports.app_port),
            spa_url=_loopback(ports.spa_port),
            lab_url=_loopback(ports.lab_port),
            attacker_url=_loopback(ports.attacker_port),
            webapp_client_id=webapp[0],
            webapp_client_secret=webapp[1],
            spa_implicit_client_id=public["implicit"][1],
            spa_pkce_client_id=public["code + PKCE"][1],
            native_client_id=public["code + PKCE, loopback"][1],
            machine_client_id=machine[0],
            machine_client_secret=machine[1],
            username=DEMO_USERNAME,
            password=DEMO_PASSWORD,
            data_dir=data_dir,
            webapp_database=data_dir / "webapp.db",
            chromium=find_chromium(chromium),
        )
    )


def _stop_all_on_signal(servers: list[_SharedSignalServer], event: asyncio.Event | None) -> None:
    def stop() -> None:
        for server in servers:
            if server.should_exit:
                server.force_exit = True  # a second Ctrl-C: do not wait for open connections
            server.should_exit = True

    loop = asyncio.get_running_loop()
    if threading.current_thread() is threading.main_thread():  # signals reach the main thread
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop)
    if event is not None:

        async def stop_when_set() -> None:
            await event.wait()
            stop()

        task = loop.create_task(stop_when_set())
        _background.add(task)
        task.add_done_callback(_background.discard)


_background: set[asyncio.Task[None]] = set()


def _print_banner(
    settings: Settings,
    ports: DemoPorts,
    webapp_client_id: str,
    public: dict[str, tuple[PublicClient, str]],
    attacker: bool,
) -> None:
    as_port, api_port, app_port, spa_port = (
        ports.as_port,
        ports.api_port,
        ports.app_port,
        ports.spa_port,
    )
    attacker_line = (
        f"\n  attacker origin       {_loopback(ports.attacker_port)}   (attack playground)"
        if attacker
        else ""
    )
    cli = public["code + PKCE, loopback"][1]
    click.echo(
        f"""
tokenpath demo (loopback only; data in {settings.data_dir})

  authorization server  {_loopback(as_port)}
  demo notes API        {_loopback(api_port)}   (accepts access tokens for this audience)
  web-server app        {_loopback(app_port)}   <- start here
  browser app           {_loopback(spa_port)}   <- then compare with this one
  flow lab              {_loopback(ports.lab_port)}   <- watch both flows hop by hop
                                 (lab only, deliberately vulnerable modes inside){attacker_line}

  sign in as  {DEMO_USERNAME} / {DEMO_PASSWORD}

  clients and the flow each uses:
    {webapp_client_id}  web-server app   confidential, authorization code + PKCE + secret;
                                 the code is redeemed server-side, the browser never sees a token
    {public["code + PKCE"][1]}  browser app      public, authorization code + PKCE (no secret)
    {public["implicit"][1]}  browser app      public, implicit: the token comes back in the URL
    {cli}  tokenpath CLI    public, code + PKCE on a loopback port (RFC 8252):
        tokenpath login --issuer {settings.issuer} --client-id {cli} --api {_loopback(api_port)}

  The implicit grant is ON in this demo so you can compare (TOKENPATH_ALLOW_IMPLICIT=1);
  `tokenpath serve` keeps it off unless you ask for it.
  The signing keys are encrypted at rest with the demo's own key-encryption key,
  generated in {settings.key_encryption_key_file} (a deployment sets TOKENPATH_KEY_ENCRYPTION_KEY).

Press Ctrl-C to stop.
"""
    )
