"""The ``tokenpath`` command: database, users, clients, the server and the local demo.

Every command reads :class:`~tokenpath.settings.Settings` from ``TOKENPATH_*`` variables, runs
the migrations it needs first (they are idempotent), and never prints a secret except the one
place a new client secret must be shown: once, when the client is created.

Exit codes: 0 success, 1 runtime failure, 2 bad input or a configuration tokenpath refuses.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
import uvicorn
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from tokenpath import __version__
from tokenpath.core.context import Context
from tokenpath.core.errors import OAuthError
from tokenpath.core.records import Client, ClientType, GrantType, ResponseType, SigningKey
from tokenpath.core.redirect_uris import InvalidRedirectUri
from tokenpath.core.registration import create_user, register_client, update_client
from tokenpath.core.signing import rotate_signing_key
from tokenpath.settings import Settings

__all__ = ["main"]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


class ConfigError(click.UsageError):
    """A setting or option tokenpath will not run with (exit code 2)."""


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment plus command-line ``overrides`` (None means unset)."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as error:
        reasons = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
        raise ConfigError(f"invalid configuration: {reasons}") from None


def migrate(settings: Settings) -> None:
    """Create the SQLite directory if needed and bring the schema to the newest migration."""
    from tokenpath.storage.sql import upgrade

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        upgrade(settings.database_url)
    except (OSError, SQLAlchemyError) as error:
        reason = str(error).splitlines()[0]
        raise click.ClickException(
            f"cannot migrate {_safe_url(settings.database_url)}: {reason}"
        ) from None


@asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[Context]:
    """A production context over the configured database, closed on exit."""
    from tokenpath.storage.sql import open_database
    from tokenpath.web.app import build_context

    database = await open_database(settings.database_url)
    try:
        yield build_context(settings, database.stores)
    finally:
        await database.close()


def run_with_context(settings: Settings, action: Callable[[Context], Awaitable[T]]) -> T:
    migrate(settings)

    async def go() -> T:
        async with opened(settings) as ctx:
            return await action(ctx)

    return asyncio.run(go())


@click.group()
@click.version_option(__version__, prog_name="tokenpath")
def main() -> None:
    """tokenpath: an OAuth 2.x authorization server you can read.

    Configuration comes from TOKENPATH_* environment variables (TOKENPATH_ISSUER,
    TOKENPATH_DATABASE_URL, TOKENPATH_DATA_DIR, ...).
    """


# --- db ---------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (safe to run repeatedly)."""
    settings = load_settings()
    migrate(settings)
    click.echo(f"database is up to date: {_safe_url(settings.database_url)}")


@db.command("cleanup")
@click.option(
    "--grace",
    type=click.IntRange(min=0),
    default=24 * 3600,
    show_default=True,
    help="Seconds expired codes and tokens are kept, so late replays are still recognised.",
)
def db_cleanup(grace: int) -> None:
    """Delete expired codes, tokens, sessions and counters (run it periodically)."""
    from tokenpath.storage.sql import open_database, purge_expired

    settings = load_settings()
    migrate(settings)

    async def purge() -> dict[str, int]:
        database = await open_database(settings.database_url)
        try:
            return await purge_expired(database.executor, int(time.time()), grace=grace)
        finally:
            await database.close()

    counts = asyncio.run(purge())
    click.echo(", ".join(f"{table}: {n}" for table, n in counts.items()) + " deleted")


def _safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


# --- keys -------------------------------------------------------------------------------------


@main.group()
def keys() -> None:
    """Signing keys (ES256) for access tokens."""


@keys.command("list")
def keys_list() -> None:
    """Active keys, newest (the one that signs) first."""
    settings = load_settings()

    async def fetch(ctx: Context) -> list[SigningKey]:
        await ctx.signer.reload()  # creates the first key if there is none
        return list(await ctx.stores.keys.list_active())

    for i, key in enumerate(run_with_context(settings, fetch)):
        role = "signing" if i == 0 else "published, retiring"
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(key.created_at))
        click.echo(f"{key.kid}  {key.alg}  created {created}  {role}")


@keys.command("rotate")
def keys_rotate() -> None:
    """Add a new signing key; the old one keeps validating until its tokens have expired."""
    settings = load_settings()

    async def rotate(ctx: Context) -> SigningKey:
        key = await rotate_signing_key(ctx.stores.keys, ctx.clock.now())
        await ctx.signer.reload()  # retires keys superseded long enough ago
        return key

    key = run_with_context(settings, rotate)
    click.echo(f"new signing key {key.kid}; servers pick it up within a minute")


# --- login (a native client) ------------------------------------------------------------------


@main.command()
@click.option("--issuer", default=None, help="Authorization server (default TOKENPATH_ISSUER).")
@click.option("--client-id", required=True, help="A public client with http://127.0.0.1/callback.")
@click.option("--scope", default="openid notes:read", show_default=True)
@click.option("--no-browser", is_flag=True, help="Print the URL instead of opening a browser.")
@click.option("--api", default=None, help="Also call GET <API>/api/me with the token.")
@click.option("--timeout", type=int, default=300, show_default=True)
def login(
    issuer: str | None, client_id: str, scope: str, no_browser: bool, api: str | None, timeout: int
) -> None:
    """Sign in as a native app: code + PKCE, system browser, loopback redirect (RFC 8252)."""
    import webbrowser

    from tokenpath.clients.native import LoginError, NativeClient

    issuer = issuer or load_settings().issuer

    def show(url: str) -> None:
        click.echo(f"Open this URL to sign in:\n\n  {url}\n", err=True)
        if not no_browser:
            webbrowser.open(url)

    native = NativeClient(issuer, client_id)
    try:
        result = native.login(scope, open_browser=show, timeout=timeout)
    except LoginError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        json.dumps(
            {
                "token_type": result.token_type,
                "expires_in": result.expires_in,
                "scope": result.scope,
                "claims": result.claims,
            },
            indent=2,
        )
    )
    if api:
        response = native.call_api(f"{api.rstrip('/')}/api/me", result.access_token)
        click.echo(f"GET {api}/api/me -> {response.status_code}\n{response.text}")


# --- user -------------------------------------------------------------------------------------


@main.group()
def user() -> None:
    """End users who sign in at the authorization server."""


@user.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def user_add(name: str, password_stdin: bool) -> None:
    """Create the user NAME (the password is prompted for twice unless --password-stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    settings = load_settings()

    async def add(ctx: Context) -> str:
        try:
            return (await create_user(ctx=ctx, username=name, password=password)).user_id
        except OAuthError as error:
            raise click.UsageError(error.description) from None

    user_id = run_with_context(settings, add)
    click.echo(f"created user {name} ({user_id})")


# --- client -----------------------------------------------------------------------------------


def grant_type_option(help: str) -> Callable[[F], F]:
    """``--grant-type``, repeatable, in the RFC 7591 vocabulary."""
    choices = click.Choice([g.value for g in GrantType])
    return click.option("--grant-type", "grant_types", multiple=True, type=choices, help=help)


def response_type_option(help: str) -> Callable[[F], F]:
    """``--response-type``, repeatable (``code``, ``token``)."""
    choices = click.Choice([r.value for r in ResponseType])
    return click.option("--response-type", "response_types", multiple=True, type=choices, help=help)


@main.group()
def client() -> None:
    """Registered OAuth clients."""


@client.command("add")
@click.option("--name", required=True, help="Shown to users on the consent page.")
@click.option(
    "--type",
    "client_type",
    required=True,
    type=click.Choice([t.value for t in ClientType]),
    help="confidential (has a secret) or public (browser or native app, PKCE).",
)
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Repeat for several.")
@click.option("--scope", "scope", required=True, help='Space-separated, e.g. "openid profile".')
@grant_type_option("Repeat for several; default authorization_code.")
@response_type_option("Repeat for several; default: derived from the grant types.")
@click.option("--require-pkce", is_flag=True, help="Require PKCE from a confidential client.")
@click.option(
    "--access-token-format", type=click.Choice(["jwt", "opaque"]), default="jwt", show_default=True
)
@click.option(
    "--auth-method",
    type=click.Choice(["client_secret_basic", "client_secret_post"]),
    help="Token endpoint authentication of a confidential client.",
)
@click.option("--json", "as_json", is_flag=True, help="Print {client_id, client_secret} as JSON.")
def client_add(
    name: str,
    client_type: str,
    redirect_uris: tuple[str, ...],
    scope: str,
    grant_types: tuple[str, ...],
    response_types: tuple[str, ...],
    require_pkce: bool,
    access_token_format: str,
    auth_method: str | None,
    as_json: bool,
) -> None:
    """Register a client; its secret (confidential clients) is printed once, never again."""
    settings = load_settings()

    async def add(ctx: Context) -> tuple[Client, str | None]:
        try:
            return await register_client(
                ctx=ctx,
                name=name,
                client_type=ClientType(client_type),
                redirect_uris=redirect_uris,
                scopes=scope.split(),
                grant_types=[GrantType(g) for g in grant_types or ("authorization_code",)],
                response_types=[ResponseType(r) for r in response_types] or None,
                require_pkce=require_pkce,
                access_token_format=access_token_format,
                token_endpoint_auth_method=auth_method,
            )
        except InvalidRedirectUri as error:
            raise click.BadParameter(error.description, param_hint="'--redirect-uri'") from None
        except OAuthError as error:
            raise click.UsageError(error.description) from None

    registered, secret = run_with_context(settings, add)
    if as_json:
        click.echo(json.dumps({"client_id": registered.client_id, "client_secret": secret}))
        return
    click.echo(f"client_id:     {registered.client_id}")
    if secret is not None:
        click.echo(f"client_secret: {secret}")
        click.echo("Store the secret now: it is shown only once and kept only as a hash.")


def _client_json(c: Client) -> dict[str, object]:
    return {
        "client_id": c.client_id,
        "client_name": c.client_name,
        "client_type": c.client_type.value,
        "redirect_uris": list(c.redirect_uris),
        "scope": " ".join(c.scopes),
        "grant_types": [g.value for g in c.grant_types],
        "response_types": [r.value for r in c.response_types],
        "token_endpoint_auth_method": c.token_endpoint_auth_method,
        "require_pkce": c.require_pkce or c.is_public,
        "access_token_format": c.access_token_format,
    }


@client.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (no secrets).")
def client_list(as_json: bool) -> None:
    """List registered clients."""
    settings = load_settings()

    async def fetch(ctx: Context) -> list[Client]:
        return list(await ctx.stores.clients.list())

    clients = run_with_context(settings, fetch)
    if as_json:
        click.echo(json.dumps([_client_json(c) for c in clients], indent=2))
        return
    if not clients:
        click.echo("no clients registered (add one with: tokenpath client add ...)")
    for c in clients:
        click.echo(f"{c.client_id}  {c.client_type.value:<12}  {c.client_name}")
        for uri in c.redirect_uris:
            click.echo(f"    redirect_uri  {uri}")
        click.echo(f"    scope         {' '.join(c.scopes)}")
        click.echo(
            f"    flows         {' '.join(r.value for r in c.response_types) or '-'}"
            f" (grants: {' '.join(g.value for g in c.grant_types)})"
        )


@client.command("update")
@click.argument("client_id")
@click.option("--name", default=None)
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Replaces the list.")
@click.option("--scope", default=None, help="Replaces the allowed scopes.")
@grant_type_option("Replaces the grant types (response types follow unless given).")
@response_type_option("Replaces the response types.")
@click.option("--require-pkce/--no-require-pkce", default=None)
@click.option("--access-token-format", type=click.Choice(["jwt", "opaque"]), default=None)
def client_update(
    client_id: str,
    name: str | None,
    redirect_uris: tuple[str, ...],
    scope: str | None,
    grant_types: tuple[str, ...],
    response_types: tuple[str, ...],
    require_pkce: bool | None,
    access_token_format: str | None,
) -> None:
    """Change CLIENT_ID's policy, e.g. code flow only: --grant-type authorization_code."""
    settings = load_settings()

    async def change(ctx: Context) -> Client:
        try:
            return await update_client(
                ctx=ctx,
                client_id=client_id,
                name=name,
                redirect_uris=redirect_uris or None,
                scopes=scope.split() if scope is not None else None,
                grant_types=[GrantType(g) for g in grant_types] or None,
                response_types=[ResponseType(r) for r in response_types] or None,
                require_pkce=require_pkce,
                access_token_format=access_token_format,
            )
        except InvalidRedirectUri as error:
            raise click.BadParameter(error.description, param_hint="'--redirect-uri'") from None
        except OAuthError as error:
            raise click.UsageError(error.description) from None

    updated = run_with_context(settings, change)
    click.echo(json.dumps(_client_json(updated), indent=2))


# --- serve ------------------------------------------------------------------------------------


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)-9s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)


def uvicorn_options() -> dict[str, Any]:
    """Shared by serve and demo: no access log (request lines can carry codes and state), and
    no proxy headers (URLs come from the issuer, never from ``X-Forwarded-*``: RFC 9700 §4.13).
    """
    return {"access_log": False, "proxy_headers": False, "server_header": False}


@main.command()
@click.option("--host", default=None, help="Interface to bind (default TOKENPATH_HOST).")
@click.option("--port", type=int, default=None, help="Port (default TOKENPATH_PORT).")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True)
@click.option(
    "--allow-implicit",
    is_flag=True,
    default=None,
    help="Turn the implicit grant on server-wide (legacy; same as TOKENPATH_ALLOW_IMPLICIT=1).",
)
def serve(host: str | None, port: int | None, workers: int, allow_implicit: bool | None) -> None:
    """Run the authorization server (migrations are applied first)."""
    from tokenpath.web import create_app

    settings = load_settings(host=host, port=port, allow_implicit=allow_implicit or None)
    if allow_implicit:
        os.environ["TOKENPATH_ALLOW_IMPLICIT"] = "1"  # for --workers, which re-read the environment
    configure_logging()
    migrate(settings)
    click.echo(f"tokenpath {__version__}: issuer {settings.issuer}")
    if workers > 1:
        from tokenpath.web.workers import run_workers

        status = run_workers(settings.host, settings.port, workers, uvicorn_options())
        if status:
            raise click.ClickException("a worker could not start; see the messages above")
        return
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, **uvicorn_options())


# --- demo -------------------------------------------------------------------------------------


@main.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".tokenpath-demo"),
    show_default=True,
    help="Where the demo keeps its databases and the demo client's secret.",
)
@click.option("--as-port", type=int, default=9000, show_default=True, help="Authorization server.")
@click.option("--api-port", type=int, default=9001, show_default=True, help="Demo API.")
@click.option("--app-port", type=int, default=9002, show_default=True, help="Demo web app.")
@click.option("--spa-port", type=int, default=9003, show_default=True, help="Demo browser app.")
def demo(data_dir: Path, as_port: int, api_port: int, app_port: int, spa_port: int) -> None:
    """Run the authorization server, the demo API and the demo apps in one process."""
    from tokenpath.demo import run_demo

    configure_logging()
    asyncio.run(run_demo(data_dir, as_port, api_port, app_port, spa_port))
