"""``tokenpath api``: register, list, show, change and delete the APIs tokens are issued for.

An API (a resource server) is the audience of its access tokens (RFC 8707, RFC 9068 ``aud``);
it defines its scopes and the text users see for each on the consent page. ``api add`` prints
the API's own credentials once: with them it introspects its tokens (RFC 7662) and reads the
revocation feed (docs/reference/revocation-feed.md). Clients are allowed on it with
``tokenpath client add|update --resource IDENTIFIER``.
"""

from __future__ import annotations

import json

import click

from tokenpath.cli.base import Group, run_with_context
from tokenpath.core.apis import TOKEN_FORMATS, add_api, delete_api, parse_scope_option, update_api
from tokenpath.core.context import Context
from tokenpath.core.errors import OAuthError
from tokenpath.core.lifecycle.views import api_view
from tokenpath.core.records import Api, ApiScope
from tokenpath.runtime import load_settings

__all__ = ["api"]


def _scopes(options: tuple[str, ...]) -> list[ApiScope]:
    try:
        return [parse_scope_option(option) for option in options]
    except OAuthError as error:
        raise click.BadParameter(error.text, param_hint="'--scope'") from None


def _claims(options: tuple[str, ...]) -> dict[str, object]:
    """``NAME=VALUE`` pairs; a VALUE that parses as JSON is that value, else the string."""
    claims: dict[str, object] = {}
    for option in options:
        name, sep, raw = option.partition("=")
        if not sep:
            raise click.BadParameter("a claim is NAME=VALUE", param_hint="'--claim'")
        try:
            claims[name] = json.loads(raw)
        except ValueError:
            claims[name] = raw
    return claims


def _api_json(api: Api) -> dict[str, object]:
    return api_view(api)


def _echo(api: Api) -> None:
    lifetime = api.access_token_lifetime
    click.echo(api.identifier)
    click.echo(f"    client_id      {api.client_id}  (introspection and revocation feed)")
    click.echo(f"    token format   {api.token_format}")
    click.echo(f"    lifetime       {f'{lifetime} s' if lifetime else 'server default'}")
    for scope in api.scopes:
        click.echo(f"    scope          {scope.name}  {scope.description}")
    if api.claims != "{}":
        click.echo(f"    claims         {api.claims}")


format_option = click.option(
    "--token-format",
    type=click.Choice(TOKEN_FORMATS),
    default=None,
    help="jwt (validated by the API with the published keys) or opaque (introspected).",
)
lifetime_option = click.option(
    "--access-token-lifetime",
    type=click.IntRange(1, 86400),
    default=None,
    help="Seconds its access tokens live (default: TOKENPATH_ACCESS_TOKEN_LIFETIME).",
)
claim_option = click.option(
    "--claim",
    "claims",
    multiple=True,
    help="NAME=VALUE added to each access token (VALUE as JSON if it parses); repeatable.",
)


@click.group(cls=Group)
def api() -> None:
    """APIs (resource servers): their identifiers, scopes and token settings."""


@api.command("add")
@click.argument("identifier")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    help='"NAME=Description shown at consent"; repeat for several.',
)
@format_option
@lifetime_option
@claim_option
@click.option("--json", "as_json", is_flag=True, help="Print the identifier and credentials.")
def api_add(
    identifier: str,
    scopes: tuple[str, ...],
    token_format: str | None,
    access_token_lifetime: int | None,
    claims: tuple[str, ...],
    as_json: bool,
) -> None:
    """Register the API IDENTIFIER (its audience URI); its secret is printed once."""
    parsed, static = _scopes(scopes), _claims(claims)
    settings = load_settings()

    async def add(ctx: Context) -> tuple[Api, str]:
        try:
            return await add_api(
                ctx,
                identifier=identifier,
                scopes=parsed,
                token_format=token_format or "jwt",
                access_token_lifetime=access_token_lifetime,
                claims=static,
            )
        except OAuthError as error:
            raise click.UsageError(error.text) from None

    registered, secret = run_with_context(settings, add)
    if as_json:
        body = {"identifier": registered.identifier, "client_id": registered.client_id}
        click.echo(json.dumps({**body, "client_secret": secret}))
        return
    _echo(registered)
    click.echo(f"client_secret: {secret}")
    click.echo("Store the secret now: it is shown only once and kept only as a hash.")


@api.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (no secrets).")
def api_list(as_json: bool) -> None:
    """List registered APIs."""

    async def fetch(ctx: Context) -> list[Api]:
        return list(await ctx.stores.apis.list())

    apis = run_with_context(load_settings(), fetch)
    if as_json:
        click.echo(json.dumps([_api_json(a) for a in apis], indent=2))
        return
    if not apis:
        click.echo("no APIs registered (add one with: tokenpath api add IDENTIFIER --scope ...)")
    for registered in apis:
        _echo(registered)


def _find(identifier: str) -> Api:
    async def fetch(ctx: Context) -> Api | None:
        return await ctx.stores.apis.get(identifier)

    found = run_with_context(load_settings(), fetch)
    if found is None:
        raise click.UsageError(f"no API {identifier!r}")
    return found


@api.command("show")
@click.argument("identifier")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object (no secret).")
def api_show(identifier: str, as_json: bool) -> None:
    """Show one API."""
    found = _find(identifier)
    if as_json:
        click.echo(json.dumps(_api_json(found), indent=2))
    else:
        _echo(found)


@api.command("update")
@click.argument("identifier")
@click.option("--scope", "scopes", multiple=True, help="Replaces the scopes; NAME=Description.")
@format_option
@lifetime_option
@claim_option
@click.option("--clear-claims", is_flag=True, help="Remove every static claim.")
@click.option("--json", "as_json", is_flag=True, help="Print the API as JSON.")
def api_update(
    identifier: str,
    scopes: tuple[str, ...],
    token_format: str | None,
    access_token_lifetime: int | None,
    claims: tuple[str, ...],
    clear_claims: bool,
    as_json: bool,
) -> None:
    """Change IDENTIFIER's scopes, token format, lifetime or claims; tokens already issued keep
    what they say."""
    parsed = _scopes(scopes) if scopes else None
    static = {} if clear_claims else (_claims(claims) if claims else None)

    async def change(ctx: Context) -> Api:
        try:
            return await update_api(
                ctx,
                identifier,
                scopes=parsed,
                token_format=token_format,
                access_token_lifetime=access_token_lifetime,
                claims=static,
            )
        except OAuthError as error:
            raise click.UsageError(error.text) from None

    updated = run_with_context(load_settings(), change)
    if as_json:
        click.echo(json.dumps(_api_json(updated), indent=2))
    else:
        _echo(updated)


@api.command("delete")
@click.argument("identifier")
@click.option("--json", "as_json", is_flag=True, help='Print {"identifier", "deleted"}.')
def api_delete(identifier: str, as_json: bool) -> None:
    """Delete IDENTIFIER and its credentials; its tokens stop introspecting active at once."""

    async def remove(ctx: Context) -> bool:
        return await delete_api(ctx, identifier)

    deleted = run_with_context(load_settings(), remove)
    if not deleted:
        raise click.UsageError(f"no API {identifier!r}")
    if as_json:
        click.echo(json.dumps({"identifier": identifier, "deleted": True}))
    else:
        click.echo(f"deleted {identifier}")
