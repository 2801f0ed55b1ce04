"""``tokenpath client``: register, list and change OAuth clients (RFC 7591 vocabulary).

A confidential client's secret is printed once, when the client is created: the database keeps
only its hash. Listings never carry a secret. A ``private_key_jwt`` client (RFC 7523; RFC 9700
§2.5 recommends asymmetric client authentication) has no secret at all: it registers the public
half of its key pair, as a JWK Set file or the URI where it publishes one (RFC 7591 §2).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from tokenpath.cli.base import Group, run_with_context
from tokenpath.core.context import Context
from tokenpath.core.errors import OAuthError
from tokenpath.core.lifecycle.views import client_view
from tokenpath.core.records import Client, ClientType, GrantType, ResponseType
from tokenpath.core.redirect_uris import InvalidRedirectUri
from tokenpath.core.registration import register_client, update_client
from tokenpath.runtime import load_settings

__all__ = ["client"]

F = TypeVar("F", bound=Callable[..., Any])


def grant_type_option(help: str) -> Callable[[F], F]:
    """``--grant-type``, repeatable, in the RFC 7591 vocabulary."""
    choices = click.Choice([g.value for g in GrantType])
    return click.option("--grant-type", "grant_types", multiple=True, type=choices, help=help)


def response_type_option(help: str) -> Callable[[F], F]:
    """``--response-type``, repeatable (``code``, ``token``)."""
    choices = click.Choice([r.value for r in ResponseType])
    return click.option("--response-type", "response_types", multiple=True, type=choices, help=help)


def resource_options(f: F) -> F:
    """``--resource`` (repeatable) and ``--default-resource``: the APIs the client may use."""
    f = click.option(
        "--default-resource",
        default=None,
        help="The API a request naming no resource is for (one of --resource; default: the first).",
    )(f)
    return click.option(
        "--resource",
        "resources",
        multiple=True,
        help="Identifier of a registered API (tokenpath api add) the client may get tokens "
        "for; repeat for several.",
    )(f)


def key_set_options(f: F) -> F:
    """``--jwks-file`` and ``--jwks-uri``: where a private_key_jwt client's public keys are."""
    path = click.Path(exists=True, dir_okay=False, path_type=Path)
    f = click.option(
        "--jwks-uri", default=None, help="https URI where the client publishes its JWK Set."
    )(f)
    return click.option(
        "--jwks-file", type=path, default=None, help="JSON JWK Set of the client's PUBLIC keys."
    )(f)


def read_key_sets(jwks_file: Path | None, jwks_uri: str | None) -> str | None:
    """The file's JWK Set text; a usage error when both are given or the file is not JSON."""
    if jwks_file is not None and jwks_uri is not None:
        raise click.UsageError("give --jwks-file or --jwks-uri, not both (RFC 7591 §2)")
    if jwks_file is None:
        return None
    try:
        text = jwks_file.read_text(encoding="utf-8")
        json.loads(text)
    except (OSError, ValueError):
        raise click.BadParameter("not a JSON JWK Set", param_hint="'--jwks-file'") from None
    return text


@click.group(cls=Group)
def client() -> None:
    """Registered OAuth clients."""


@client.command("add")
@click.option("--name", required=True, help="Shown to users on the consent page.")
@click.option(
    "--type",
    "client_type",
    type=click.Choice([t.value for t in ClientType]),
    help="confidential (authenticates) or public (browser or native app, PKCE); "
    "implied confidential by --auth-method, --jwks-file or --jwks-uri.",
)
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Repeat for several.")
@click.option(
    "--scope",
    "scope",
    required=True,
    help='Space-separated OpenID scopes and scopes of its APIs, e.g. "openid notes:read".',
)
@resource_options
@grant_type_option("Repeat for several; default authorization_code.")
@response_type_option("Repeat for several; default: derived from the grant types.")
@click.option("--require-pkce", is_flag=True, help="Require PKCE from a confidential client.")
@click.option(
    "--access-token-format", type=click.Choice(["jwt", "opaque"]), default="jwt", show_default=True
)
@click.option(
    "--dpop-bound-access-tokens",
    is_flag=True,
    help="The client must send a DPoP proof with every token request (RFC 9449 §5.2).",
)
@click.option(
    "--auth-method",
    type=click.Choice(["client_secret_basic", "client_secret_post", "private_key_jwt"]),
    help="Token endpoint authentication of a confidential client "
    "(private_key_jwt: implied by --jwks-file or --jwks-uri).",
)
@key_set_options
@click.option(
    "--post-logout-redirect-uri",
    "post_logout_redirect_uris",
    multiple=True,
    help="Where RP-initiated logout may send the browser back (exact match; repeat for several).",
)
@click.option(
    "--backchannel-logout-uri", default=None, help="Where logout tokens are POSTed (OIDC BCL)."
)
@click.option(
    "--subject-type",
    type=click.Choice(["public", "pairwise"]),
    default="public",
    show_default=True,
    help="pairwise: a sub of its own for this client (needs TOKENPATH_PAIRWISE_SALT).",
)
@click.option(
    "--require-pushed-authorization-requests",
    "require_par",
    is_flag=True,
    help="Accept this client's authorization requests only through /par (RFC 9126).",
)
@click.option("--json", "as_json", is_flag=True, help="Print {client_id, client_secret} as JSON.")
def client_add(
    name: str,
    client_type: str | None,
    redirect_uris: tuple[str, ...],
    scope: str,
    resources: tuple[str, ...],
    default_resource: str | None,
    grant_types: tuple[str, ...],
    response_types: tuple[str, ...],
    require_pkce: bool,
    access_token_format: str,
    dpop_bound_access_tokens: bool,
    auth_method: str | None,
    jwks_file: Path | None,
    jwks_uri: str | None,
    post_logout_redirect_uris: tuple[str, ...],
    backchannel_logout_uri: str | None,
    subject_type: str,
    require_par: bool,
    as_json: bool,
) -> None:
    """Register a client; its secret (confidential clients) is printed once, never again.

    A private_key_jwt client has no secret: give --jwks-file or --jwks-uri instead.
    """
    jwks = read_key_sets(jwks_file, jwks_uri)
    if client_type is None:
        if auth_method is None and jwks is None and jwks_uri is None:
            raise click.UsageError("Missing option '--type' (confidential or public).")
        client_type = ClientType.CONFIDENTIAL.value
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
                jwks=jwks,
                jwks_uri=jwks_uri,
                post_logout_redirect_uris=post_logout_redirect_uris,
                backchannel_logout_uri=backchannel_logout_uri,
                subject_type=subject_type,
                require_pushed_authorization_requests=require_par,
                dpop_bound_access_tokens=dpop_bound_access_tokens,
                resources=resources,
                default_resource=default_resource,
            )
        except InvalidRedirectUri as error:
            raise click.BadParameter(error.text, param_hint="'--redirect-uri'") from None
        except OAuthError as error:
            raise click.UsageError(error.text) from None

    registered, secret = run_with_context(settings, add)
    if as_json:
        click.echo(json.dumps({"client_id": registered.client_id, "client_secret": secret}))
        return
    click.echo(f"client_id:     {registered.client_id}")
    if secret is not None:
        click.echo(f"client_secret: {secret}")
        click.echo("Store the secret now: it is shown only once and kept only as a hash.")


def _client_json(c: Client) -> dict[str, object]:
    """The one JSON shape of a client (``core/lifecycle/views.py``, shared with the admin API)."""
    return client_view(c, int(time.time()))


@client.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (no secrets).")
def client_list(as_json: bool) -> None:
    """List registered clients (an API's credentials are listed by ``tokenpath api list``)."""
    settings = load_settings()

    async def fetch(ctx: Context) -> list[Client]:
        credentials = {a.client_id for a in await ctx.stores.apis.list()}
        return [c for c in await ctx.stores.clients.list() if c.client_id not in credentials]

    clients = run_with_context(settings, fetch)
    if as_json:
        click.echo(json.dumps([_client_json(c) for c in clients], indent=2))
        return
    if not clients:
        click.echo("no clients registered (add one with: tokenpath client add ...)")
    for c in clients:
        state = "  (disabled)" if c.disabled_at is not None else ""
        click.echo(f"{c.client_id}  {c.client_type.value:<12}  {c.client_name}{state}")
        for uri in c.redirect_uris:
            click.echo(f"    redirect_uri  {uri}")
        click.echo(f"    scope         {' '.join(c.scopes)}")
        for resource in c.resources:
            click.echo(f"    resource      {resource}")
        click.echo(
            f"    flows         {' '.join(r.value for r in c.response_types) or '-'}"
            f" (grants: {' '.join(g.value for g in c.grant_types)})"
        )
        click.echo(f"    auth          {c.token_endpoint_auth_method}")
        if c.jwks_uri:
            click.echo(f"    jwks_uri      {c.jwks_uri}")


@client.command("update")
@click.argument("client_id")
@click.option("--name", default=None)
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Replaces the list.")
@click.option("--scope", default=None, help="Replaces the allowed scopes.")
@resource_options
@grant_type_option("Replaces the grant types (response types follow unless given).")
@response_type_option("Replaces the response types.")
@click.option("--require-pkce/--no-require-pkce", default=None)
@click.option("--access-token-format", type=click.Choice(["jwt", "opaque"]), default=None)
@click.option(
    "--require-pushed-authorization-requests/--no-require-pushed-authorization-requests",
    "require_par",
    default=None,
    help="Accept the client's authorization requests only through /par (RFC 9126), or not.",
)
@click.option(
    "--dpop-bound-access-tokens/--no-dpop-bound-access-tokens",
    default=None,
    help="Require (or stop requiring) a DPoP proof with every token request (RFC 9449 §5.2).",
)
@key_set_options
def client_update(
    client_id: str,
    name: str | None,
    redirect_uris: tuple[str, ...],
    scope: str | None,
    resources: tuple[str, ...],
    default_resource: str | None,
    grant_types: tuple[str, ...],
    response_types: tuple[str, ...],
    require_pkce: bool | None,
    access_token_format: str | None,
    require_par: bool | None,
    dpop_bound_access_tokens: bool | None,
    jwks_file: Path | None,
    jwks_uri: str | None,
) -> None:
    """Change CLIENT_ID's policy, e.g. code flow only: --grant-type authorization_code.

    --jwks-file or --jwks-uri replaces a private_key_jwt client's keys (the other one is cleared).
    """
    jwks = read_key_sets(jwks_file, jwks_uri)
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
                jwks=jwks,
                jwks_uri=jwks_uri,
                require_pushed_authorization_requests=require_par,
                dpop_bound_access_tokens=dpop_bound_access_tokens,
                resources=resources or None,
                default_resource=default_resource,
            )
        except InvalidRedirectUri as error:
            raise click.BadParameter(error.text, param_hint="'--redirect-uri'") from None
        except OAuthError as error:
            raise click.UsageError(error.text) from None

    updated = run_with_context(settings, change)
    click.echo(json.dumps(_client_json(updated), indent=2))
