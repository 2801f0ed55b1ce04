"""``tokenpath login``: the native client of RFC 8252 on the command line.

It talks to the authorization server only over HTTP, like any third-party native app: code +
PKCE, the system browser, and a loopback redirect URI (RFC 8252 §7.3). A server that cannot be
reached, or answers with an HTTP error, is a message and exit code 1, never a traceback.

DPoP (RFC 9449) by default when the server advertises it: the tokens are bound to a key this
run holds, fresh per run (``--dpop-key fresh``) or kept in the OS keyring (``--dpop-key
keyring``, needs ``pip install 'tokenpath[keyring]'``); ``--no-dpop`` asks for bearer tokens.
"""

from __future__ import annotations

import json

import click

from tokenpath.cli.base import Command
from tokenpath.runtime import load_settings

__all__ = ["login"]


@click.command(cls=Command)
@click.option("--issuer", default=None, help="Authorization server (default TOKENPATH_ISSUER).")
@click.option("--client-id", required=True, help="A public client with http://127.0.0.1/callback.")
@click.option("--scope", default="openid notes:read", show_default=True)
@click.option("--no-browser", is_flag=True, help="Print the URL instead of opening a browser.")
@click.option("--api", default=None, help="Also call GET <API>/api/me with the token.")
@click.option("--timeout", type=int, default=300, show_default=True)
@click.option(
    "--dpop/--no-dpop",
    default=True,
    show_default=True,
    help="Bind the tokens to a key (DPoP, RFC 9449) when the server offers it.",
)
@click.option(
    "--dpop-key",
    type=click.Choice(["fresh", "keyring"]),
    default="fresh",
    show_default=True,
    help="A fresh key per run, or one kept in the OS keyring (pip install 'tokenpath[keyring]').",
)
def login(
    issuer: str | None,
    client_id: str,
    scope: str,
    no_browser: bool,
    api: str | None,
    timeout: int,
    dpop: bool,
    dpop_key: str,
) -> None:
    """Sign in as a native app: code + PKCE, system browser, loopback redirect (RFC 8252)."""
    import webbrowser

    import httpx

    from tokenpath.clients.dpop import ClientKey, DpopUnavailable, keyring_key
    from tokenpath.clients.native import LoginError, NativeClient

    issuer = issuer or load_settings().issuer
    key: ClientKey | None = None
    if dpop and dpop_key == "keyring":
        try:
            key = keyring_key(issuer, client_id)
        except DpopUnavailable as error:
            raise click.ClickException(str(error)) from None

    def show(url: str) -> None:
        click.echo(f"Open this URL to sign in:\n\n  {url}\n", err=True)
        if not no_browser:
            webbrowser.open(url)

    native = NativeClient(issuer, client_id, dpop=dpop, dpop_key=key)
    try:
        result = native.login(scope, open_browser=show, timeout=timeout)
    except LoginError as error:
        raise click.ClickException(str(error)) from None
    except httpx.HTTPStatusError as error:
        raise click.ClickException(
            f"{error.request.url} answered HTTP {error.response.status_code}; "
            f"is {issuer} a tokenpath issuer (TOKENPATH_ISSUER / --issuer)?"
        ) from None
    except httpx.HTTPError as error:
        raise click.ClickException(
            f"cannot reach the authorization server at {issuer} ({error or type(error).__name__});"
            " is `tokenpath serve` running there? (set the address with --issuer or "
            "TOKENPATH_ISSUER)"
        ) from None
    if dpop and result.dpop_jkt is None:
        click.echo("The server offers no DPoP: these are bearer tokens.", err=True)
    click.echo(
        json.dumps(
            {
                "token_type": result.token_type,
                "dpop_jkt": result.dpop_jkt,
                "expires_in": result.expires_in,
                "scope": result.scope,
                "claims": result.claims,
            },
            indent=2,
        )
    )
    if api:
        try:
            response = native.call_api(f"{api.rstrip('/')}/api/me", result.access_token)
        except httpx.HTTPError as error:
            raise click.ClickException(f"cannot reach the API at {api} ({error})") from None
        click.echo(f"GET {api}/api/me -> {response.status_code}\n{response.text}")
