"""Registering clients and users: the only way records enter the stores.

Validation follows RFC 7591 §2 vocabulary and RFC 6749 §3.1.2 / RFC 9700 §2.1 redirect rules, so
the CLI today and dynamic registration later share one gate. Client ids are server-assigned
(RFC 9700 §4.15: clients must not pick identifiers that could collide with users).

Which client types may hold a grant, which grants need another, and which grant each response
type belongs to are read from the rows of ``core.grants.registry`` and ``core.response_types``
(RFC 7591 §2.1: grant types and response types must agree).

A user may carry OpenID Connect standard claims (Core §5.1), validated by ``core/claims.py``
whenever they are set.

A ``private_key_jwt`` client registers its public keys inline (``jwks``) or by reference
(``jwks_uri``), never both (RFC 7591 §2). Each registration, change and new user is an
``admin.change`` security event (``core/events.py``), so an operator sees who may now sign in or
ask for tokens; the event names identifiers only, never a secret or password.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from tokenpath.core.claims import parse_stored, validate_claims
from tokenpath.core.client_auth import AUTH_METHODS, hash_client_secret, new_client_secret
from tokenpath.core.context import Context
from tokenpath.core.errors import InvalidRequest, OAuthError
from tokenpath.core.events import Event, EventName
from tokenpath.core.grants.registry import grant_spec
from tokenpath.core.params import parse_scope
from tokenpath.core.records import Client, ClientType, GrantType, ResponseType, User
from tokenpath.core.redirect_uris import InvalidRedirectUri, validate_registered_redirect_uri
from tokenpath.core.response_types import RESPONSE_TYPES, response_type_spec

__all__ = [
    "InvalidClientMetadata",
    "InvalidRedirectUri",
    "create_user",
    "register_client",
    "update_client",
    "update_user_claims",
]


class InvalidClientMetadata(OAuthError):
    """RFC 7591 §3.2.2 ``invalid_client_metadata``."""

    error = "invalid_client_metadata"


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidClientMetadata("client name must be 1-200 characters")
    return name


def _check_grants(
    client_type: ClientType, grants: tuple[GrantType, ...], responses: tuple[ResponseType, ...]
) -> None:
    public = client_type is ClientType.PUBLIC
    if not grants:
        raise InvalidClientMetadata("at least one grant type is required")
    for grant in grants:
        spec = grant_spec(grant)
        if spec is None:
            raise InvalidClientMetadata(f"unknown grant type {grant}")
        if public and not spec.public_clients:
            raise InvalidClientMetadata(f"only confidential clients may use the {grant} grant")
        if not public and not spec.confidential_clients:
            raise InvalidClientMetadata(f"only public clients may use the {grant} grant")
        if spec.needs and not any(needed in grants for needed in spec.needs):
            raise InvalidClientMetadata(f"{grant} needs the {' or '.join(spec.needs)} grant")
    for response in responses:
        response_spec = response_type_spec(response)
        if response_spec is None:
            raise InvalidClientMetadata(f"unknown response type {response}")
        if response_spec.grant_type not in grants:
            raise InvalidClientMetadata(
                f"response_type {response} needs grant_type {response_spec.grant_type}"
            )


MAX_JWKS_URI = 2000
_LOOPBACK_HOSTS = ("127.0.0.1", "::1")


@dataclass(frozen=True, slots=True)
class _Auth:
    """The validated token endpoint authentication of a client (RFC 7591 §2)."""

    method: str
    jwks: str | None = None
    jwks_uri: str | None = None


def _check_jwks_uri(uri: str) -> str:
    """An absolute https URI without fragment; http only on a loopback host (as redirect URIs).

    The server fetches it, so a plain-http URI on the network would let anyone on the path
    substitute the client's keys and sign in as the client.
    """
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InvalidClientMetadata("jwks_uri must be an absolute https URI") from None
    if len(uri) > MAX_JWKS_URI or not parts.hostname or parts.username or parts.password:
        raise InvalidClientMetadata("jwks_uri must be an absolute https URI")
    if "#" in uri:
        raise InvalidClientMetadata("jwks_uri must not contain a fragment")
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS):
        return uri
    raise InvalidClientMetadata("jwks_uri must use https (http only for 127.0.0.1 or [::1])")


def _check_jwks(jwks: str) -> str:
    try:
        key_set = KeySet.import_key_set(json.loads(jwks))
    except (ValueError, TypeError, JoseError):
        raise InvalidClientMetadata("jwks must be a JSON JWK Set of public keys") from None
    if not key_set.keys or any(key.is_private for key in key_set.keys):
        raise InvalidClientMetadata("jwks must hold public keys only")
    return json.dumps(key_set.as_dict(private=False))


def _check_auth(
    client_type: ClientType, method: str | None, jwks: str | None, jwks_uri: str | None = None
) -> _Auth:
    """The token endpoint auth method (RFC 7591 §2) and, for private_key_jwt, the keys."""
    if client_type is ClientType.PUBLIC:
        if method not in (None, "none") or jwks or jwks_uri:
            raise InvalidClientMetadata("public clients authenticate with none")
        return _Auth("none")
    method = method or ("private_key_jwt" if jwks or jwks_uri else "client_secret_basic")
    if method not in AUTH_METHODS or method == "none":
        raise InvalidClientMetadata(f"unsupported token_endpoint_auth_method {method!r}")
    if method != "private_key_jwt":
        if jwks or jwks_uri:
            raise InvalidClientMetadata("jwks and jwks_uri are only used with private_key_jwt")
        return _Auth(method)
    if jwks and jwks_uri:
        raise InvalidClientMetadata("give jwks or jwks_uri, not both (RFC 7591 §2)")
    if jwks_uri:
        return _Auth(method, jwks_uri=_check_jwks_uri(jwks_uri))
    if not jwks:
        raise InvalidClientMetadata("private_key_jwt needs the client's jwks or jwks_uri")
    return _Auth(method, jwks=_check_jwks(jwks))


def _admin_change(ctx: Context, action: str, *, client_id: str = "", user_id: str = "") -> None:
    ctx.events.emit(
        Event(
            name=EventName.ADMIN_CHANGE,
            outcome="changed",
            client_id=client_id or None,
            user_id=user_id or None,
            extra=(("action", action),),
        )
    )


@dataclass(frozen=True, slots=True)
class _Policy:
    """The validated, redirect- and grant-related metadata of a client."""

    name: str
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    grant_types: tuple[GrantType, ...]
    response_types: tuple[ResponseType, ...]


def _validate(
    ctx: Context,
    *,
    client_type: ClientType,
    name: str,
    redirect_uris: Sequence[str],
    scopes: Sequence[str],
    grant_types: Sequence[GrantType],
    response_types: Sequence[ResponseType] | None,
    access_token_format: str,
) -> _Policy:
    grants = tuple(dict.fromkeys(GrantType(g) for g in grant_types))
    if response_types is None:
        # the response types of the client's grants, in the order the grants were given
        response_types = [
            ResponseType(spec.response_type)
            for grant in grants
            for spec in RESPONSE_TYPES
            if spec.grant_type == grant
        ]
    responses = tuple(dict.fromkeys(ResponseType(r) for r in response_types))
    _check_grants(client_type, grants, responses)
    if responses and not redirect_uris:
        raise InvalidRedirectUri("at least one redirect URI is required")
    native = client_type is ClientType.PUBLIC
    uris = tuple(
        dict.fromkeys(validate_registered_redirect_uri(u, native=native) for u in redirect_uris)
    )
    scope_list = parse_scope(" ".join(scopes)) if scopes else ()
    unknown = [s for s in scope_list or () if s not in ctx.policy.scopes_supported]
    if not scope_list or unknown:
        raise InvalidClientMetadata(
            f"scopes must be among: {' '.join(ctx.policy.scopes_supported)}"
        )
    if access_token_format not in ("jwt", "opaque"):
        raise InvalidClientMetadata("access_token_format must be jwt or opaque")
    return _Policy(
        name=_check_name(name),
        redirect_uris=uris,
        scopes=tuple(scope_list),
        grant_types=grants,
        response_types=responses,
    )


async def register_client(
    *,
    ctx: Context,
    name: str,
    client_type: ClientType,
    redirect_uris: Sequence[str],
    scopes: Sequence[str],
    grant_types: Sequence[GrantType] = (GrantType.AUTHORIZATION_CODE,),
    response_types: Sequence[ResponseType] | None = None,
    require_pkce: bool = False,
    access_token_format: str = "jwt",  # noqa: S107 - a format name, not a secret
    token_endpoint_auth_method: str | None = None,
    jwks: str | None = None,
    jwks_uri: str | None = None,
) -> tuple[Client, str | None]:
    """Create a client; returns it with its plain secret (None when it has none), shown once."""
    policy = _validate(
        ctx,
        client_type=client_type,
        name=name,
        redirect_uris=redirect_uris,
        scopes=scopes,
        grant_types=grant_types,
        response_types=response_types,
        access_token_format=access_token_format,
    )
    auth = _check_auth(client_type, token_endpoint_auth_method, jwks, jwks_uri)
    secret = new_client_secret(ctx.random) if auth.method.startswith("client_secret") else None
    client = Client(
        client_id=ctx.random.token(16),
        client_name=policy.name,
        client_type=client_type,
        secret_hash=hash_client_secret(secret, salt=ctx.random.token(12)) if secret else None,
        redirect_uris=policy.redirect_uris,
        scopes=policy.scopes,
        grant_types=policy.grant_types,
        response_types=policy.response_types,
        token_endpoint_auth_method=auth.method,
        require_pkce=require_pkce,
        access_token_format=access_token_format,
        jwks=auth.jwks,
        jwks_uri=auth.jwks_uri,
        created_at=ctx.clock.now(),
    )
    await ctx.stores.clients.add(client)
    _admin_change(ctx, "client.add", client_id=client.client_id)
    return client, secret


async def update_client(
    *,
    ctx: Context,
    client_id: str,
    name: str | None = None,
    redirect_uris: Sequence[str] | None = None,
    scopes: Sequence[str] | None = None,
    grant_types: Sequence[GrantType] | None = None,
    response_types: Sequence[ResponseType] | None = None,
    require_pkce: bool | None = None,
    access_token_format: str | None = None,
    jwks: str | None = None,
    jwks_uri: str | None = None,
) -> Client:
    """Change a client's policy; what is None stays. The same rules as registration apply.

    Changing grant types without response types derives the response types again, so
    ``--grant-type authorization_code`` alone turns an implicit-capable client code-only.
    New ``jwks`` replace the ``jwks_uri`` and the other way round (a client has one of them);
    the authentication method itself does not change.
    """
    current = await ctx.stores.clients.get(client_id)
    if current is None:
        raise InvalidRequest(f"no client {client_id!r}")
    if response_types is None and grant_types is None:
        response_types = current.response_types
    policy = _validate(
        ctx,
        client_type=current.client_type,
        name=current.client_name if name is None else name,
        redirect_uris=current.redirect_uris if redirect_uris is None else redirect_uris,
        scopes=current.scopes if scopes is None else scopes,
        grant_types=current.grant_types if grant_types is None else grant_types,
        response_types=response_types,
        access_token_format=access_token_format or current.access_token_format,
    )
    auth = _Auth(current.token_endpoint_auth_method, current.jwks, current.jwks_uri)
    if jwks is not None or jwks_uri is not None:
        auth = _check_auth(current.client_type, current.token_endpoint_auth_method, jwks, jwks_uri)
    updated = replace(
        current,
        client_name=policy.name,
        redirect_uris=policy.redirect_uris,
        scopes=policy.scopes,
        grant_types=policy.grant_types,
        response_types=policy.response_types,
        require_pkce=current.require_pkce if require_pkce is None else require_pkce,
        access_token_format=access_token_format or current.access_token_format,
        jwks=auth.jwks,
        jwks_uri=auth.jwks_uri,
    )
    await ctx.stores.clients.update(updated)
    _admin_change(ctx, "client.update", client_id=client_id)
    return updated


async def create_user(
    *,
    ctx: Context,
    username: str,
    password: str,
    claims: Mapping[str, object] | None = None,
) -> User:
    """Create a user, with optional standard claims (OpenID Connect Core §5.1, validated)."""
    username = username.strip()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise InvalidRequest("username must be 1-100 characters without spaces")
    if len(password) < 8:
        raise InvalidRequest("password must be at least 8 characters")
    stored_claims = validate_claims(claims or {})
    if await ctx.stores.users.get_by_username(username) is not None:
        raise InvalidRequest(f"user {username!r} already exists")
    user = User(
        user_id=ctx.random.token(16),
        username=username,
        password_hash=await ctx.passwords.hash(password),
        claims=stored_claims,
        created_at=ctx.clock.now(),
    )
    await ctx.stores.users.add(user)
    _admin_change(ctx, "user.add", user_id=user.user_id)
    return user


async def update_user_claims(
    ctx: Context, username: str, claims: Mapping[str, object | None]
) -> User:
    """Merge ``claims`` into the user's: a value sets a claim, None removes it; the rest stay.

    The merged set is validated as a whole (``core/claims.py``), so a change can never leave a
    user with claims that could not have been created.
    """
    current = await ctx.stores.users.get_by_username(username)
    if current is None:
        raise InvalidRequest(f"no user {username!r}")
    merged = parse_stored(current.claims)
    for name, value in claims.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    stored_claims = validate_claims(merged)
    await ctx.stores.users.set_claims(current.user_id, stored_claims)
    _admin_change(ctx, "user.update", user_id=current.user_id)
    return replace(current, claims=stored_claims)
