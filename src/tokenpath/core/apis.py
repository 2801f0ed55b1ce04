"""Registered APIs (resource servers) and the clients allowed on them.

Why: an access token is for one API (RFC 9700 §2.3 audience restriction; RFC 8707). Each API is
a record (:class:`~tokenpath.core.records.Api`) naming its identifier, the scopes it defines with
their consent texts, its token format, lifetime and static claims; a client lists the APIs it may
get tokens for (``Client.resources``).

Rules, checked here whoever registers (the CLI, tests, the demo):

* An identifier is an absolute ``https`` URI, or ``http`` on a loopback host, with a host, no
  user information and no fragment (RFC 8707 §2), at most 2000 characters.
* A scope name is an RFC 6749 §3.3 scope-token of at most 100 characters, not one of the OpenID
  scopes (:data:`OPENID_SCOPES`, built in), and defined by one API only: a scope name then says
  which API it belongs to, and remembered consent cannot mix two APIs up.
* A description is 1-300 printable characters: the consent page shows it.
* A client's scopes are OpenID scopes or scopes of its APIs; its APIs are registered; its default
  is one of them. A client that names no API is allowed on the server's default API
  (``TOKENPATH_AUDIENCE``) when one is configured, and on nothing else.
* Registering an API creates a confidential client with no grant types: the API's credentials for
  introspection and the revocation feed, which get no tokens of their own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from urllib.parse import urlsplit

from tokenpath.core.auth_metadata import InvalidClientMetadata
from tokenpath.core.client_auth import hash_client_secret, new_client_secret
from tokenpath.core.context import Context
from tokenpath.core.errors import InvalidRequest
from tokenpath.core.events import Event, EventName
from tokenpath.core.policy import OPENID_SCOPES
from tokenpath.core.records import Api, ApiScope, Client, ClientType
from tokenpath.core.token_claims import validate_static_claims

__all__ = [
    "MAX_DESCRIPTION",
    "MAX_IDENTIFIER",
    "OPENID_SCOPES",
    "TOKEN_FORMATS",
    "add_api",
    "client_apis",
    "delete_api",
    "parse_scope_option",
    "update_api",
    "validate_client_apis",
    "validate_identifier",
]


TOKEN_FORMATS = ("jwt", "opaque")
MAX_IDENTIFIER = 2000
MAX_SCOPE_NAME = 100
MAX_DESCRIPTION = 300
MAX_SCOPES = 100
_LOOPBACK = ("127.0.0.1", "::1", "localhost")
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
_PRINTABLE = re.compile(r"[^\x00-\x1f\x7f]+")


def validate_identifier(identifier: str) -> str:
    """The identifier if it may name an API (module rules), else ``invalid_request``."""
    if not identifier or len(identifier) > MAX_IDENTIFIER or not _PRINTABLE.fullmatch(identifier):
        raise InvalidRequest("an API identifier is 1-2000 printable characters")
    if "#" in identifier or " " in identifier:
        raise InvalidRequest("an API identifier has no fragment and no spaces (RFC 8707 §2)")
    try:
        parts = urlsplit(identifier)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InvalidRequest("an API identifier must be an absolute URI") from None
    if not parts.hostname or "@" in parts.netloc:
        raise InvalidRequest("an API identifier must be an absolute URI with a host")
    loopback = parts.hostname in _LOOPBACK
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise InvalidRequest("an API identifier must be https (http only on a loopback host)")
    return identifier


def parse_scope_option(option: str) -> ApiScope:
    """``NAME=Description shown at consent`` (the CLI's ``--scope``) as a checked scope."""
    name, sep, description = option.partition("=")
    if not sep:
        raise InvalidRequest("a scope is NAME=Description shown at consent")
    return _checked_scope(ApiScope(name=name, description=description.strip()))


def _checked_scope(scope: ApiScope) -> ApiScope:
    if len(scope.name) > MAX_SCOPE_NAME or not _SCOPE_TOKEN.fullmatch(scope.name):
        raise InvalidRequest(
            "a scope name is 1-100 characters, no spaces, quotes, backslashes or control "
            "characters (RFC 6749 §3.3)"
        )
    if scope.name in OPENID_SCOPES:
        raise InvalidRequest(f"{scope.name} is an OpenID scope, built in")
    text = scope.description
    if not text or len(text) > MAX_DESCRIPTION or not _PRINTABLE.fullmatch(text):
        raise InvalidRequest(f"the description of {scope.name} must be 1-300 printable characters")
    return scope


async def _checked_scopes(
    ctx: Context, scopes: Sequence[ApiScope], identifier: str
) -> tuple[ApiScope, ...]:
    checked = tuple(_checked_scope(s) for s in scopes)
    names = [s.name for s in checked]
    if len(set(names)) != len(names):
        raise InvalidRequest("a scope is named twice")
    if len(names) > MAX_SCOPES:
        raise InvalidRequest(f"an API defines at most {MAX_SCOPES} scopes")
    for other in await ctx.stores.apis.list():
        taken = set(names) & set(other.scope_names)
        if other.identifier != identifier and taken:
            raise InvalidRequest(
                f"scope {sorted(taken)[0]} is already defined by the API {other.identifier}"
            )
    return checked


def _checked_options(token_format: str, lifetime: int | None) -> None:
    if token_format not in TOKEN_FORMATS:
        raise InvalidRequest("token format must be jwt or opaque")
    if lifetime is not None and not 1 <= lifetime <= 86400:
        raise InvalidRequest("access-token lifetime must be between 1 and 86400 seconds")


def _admin(ctx: Context, action: str, client_id: str) -> None:
    ctx.events.emit(
        Event(
            name=EventName.ADMIN_CHANGE,
            outcome="changed",
            client_id=client_id,
            extra=(("action", action),),
        )
    )


async def add_api(
    ctx: Context,
    *,
    identifier: str,
    scopes: Sequence[ApiScope],
    token_format: str = "jwt",  # noqa: S107 - a format name, not a secret
    access_token_lifetime: int | None = None,
    claims: Mapping[str, object] | None = None,
) -> tuple[Api, str]:
    """Register an API and its credentials; returns it and the plain secret, shown once."""
    validate_identifier(identifier)
    checked = await _checked_scopes(ctx, scopes, identifier)
    _checked_options(token_format, access_token_lifetime)
    static = validate_static_claims(claims or {})
    if await ctx.stores.apis.get(identifier) is not None:
        raise InvalidRequest(f"the API {identifier} is already registered")
    now = ctx.clock.now()
    secret = new_client_secret(ctx.random)
    credentials = Client(
        client_id=ctx.random.token(16),
        client_name=f"API {identifier}"[:200],
        client_type=ClientType.CONFIDENTIAL,
        secret_hash=hash_client_secret(secret, salt=ctx.random.token(12)),
        redirect_uris=(),
        scopes=(),
        grant_types=(),
        response_types=(),
        created_at=now,
    )
    api = Api(
        identifier=identifier,
        scopes=checked,
        client_id=credentials.client_id,
        token_format=token_format,
        access_token_lifetime=access_token_lifetime,
        claims=static,
        created_at=now,
    )
    await ctx.stores.apis.add(api)  # the unique identifier first: a racing add fails here
    await ctx.stores.clients.add(credentials)
    _admin(ctx, "api.add", credentials.client_id)
    return api, secret


async def update_api(
    ctx: Context,
    identifier: str,
    *,
    scopes: Sequence[ApiScope] | None = None,
    token_format: str | None = None,
    access_token_lifetime: int | None = None,
    claims: Mapping[str, object] | None = None,
) -> Api:
    """Change an API; what is None stays. Tokens already issued keep what they say."""
    current = await ctx.stores.apis.get(identifier)
    if current is None:
        raise InvalidRequest(f"no API {identifier!r}")
    checked = current.scopes if scopes is None else await _checked_scopes(ctx, scopes, identifier)
    fmt = token_format or current.token_format
    lifetime = access_token_lifetime or current.access_token_lifetime
    _checked_options(fmt, lifetime)
    updated = replace(
        current,
        scopes=checked,
        token_format=fmt,
        access_token_lifetime=lifetime,
        claims=current.claims if claims is None else validate_static_claims(claims),
    )
    await ctx.stores.apis.update(updated)
    _admin(ctx, "api.update", current.client_id)
    return updated


async def delete_api(ctx: Context, identifier: str) -> bool:
    """Forget the API and its credentials; its tokens introspect inactive from then on (the
    audience check in ``core/token_lookup.py``). False when there was no such API."""
    current = await ctx.stores.apis.get(identifier)
    if current is None:
        return False
    await ctx.stores.apis.delete(identifier)
    await ctx.stores.clients.delete(current.client_id)
    _admin(ctx, "api.delete", current.client_id)
    return True


def client_apis(client: Client, default_api: str | None) -> tuple[str, ...]:
    """The identifiers of the APIs ``client`` may get tokens for, its default first."""
    listed = client.resources or ((default_api,) if default_api else ())
    if client.default_resource in listed:
        return (client.default_resource, *(r for r in listed if r != client.default_resource))
    return listed


async def validate_client_apis(ctx: Context, client: Client) -> Client:
    """``client`` if its APIs exist, its default is one of them and its scopes are OpenID
    scopes or its APIs' scopes; else ``invalid_client_metadata`` naming what is wrong."""
    resources = tuple(dict.fromkeys(client.resources))
    if client.default_resource is not None and client.default_resource not in resources:
        raise InvalidClientMetadata("the default resource must be one of the client's resources")
    defined: set[str] = set(OPENID_SCOPES)
    for identifier in client_apis(replace(client, resources=resources), ctx.policy.audience):
        api = await ctx.stores.apis.get(identifier)
        if api is None:
            if identifier in resources:
                raise InvalidClientMetadata(f"no API is registered as {identifier}")
            continue
        defined.update(api.scope_names)
    unknown = [s for s in client.scopes if s not in defined]
    if unknown:
        raise InvalidClientMetadata(
            f"scopes must be OpenID scopes or scopes of the client's APIs: {' '.join(unknown)}"
        )
    return replace(client, resources=resources)
