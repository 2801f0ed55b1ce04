"""Registering clients and users: the only way records enter the stores.

Validation follows RFC 7591 §2 vocabulary and RFC 6749 §3.1.2 / RFC 9700 §2.1 redirect rules, so
the CLI today and dynamic registration later share one gate. Client ids are server-assigned
(RFC 9700 §4.15: clients must not pick identifiers that could collide with users).

Which client types may hold a grant, which grants need another, and which grant each response
type belongs to are read from the rows of ``core.grants.registry`` and ``core.response_types``
(RFC 7591 §2.1: grant types and response types must agree).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace

from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from tokenpath.core.client_auth import AUTH_METHODS, hash_client_secret, new_client_secret
from tokenpath.core.context import Context
from tokenpath.core.errors import InvalidRequest, OAuthError
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


def _check_auth(
    client_type: ClientType, method: str | None, jwks: str | None
) -> tuple[str, str | None]:
    """The token endpoint auth method (RFC 7591 §2) and, for private_key_jwt, the JWK Set."""
    if client_type is ClientType.PUBLIC:
        if method not in (None, "none") or jwks:
            raise InvalidClientMetadata("public clients authenticate with none")
        return "none", None
    method = method or ("private_key_jwt" if jwks else "client_secret_basic")
    if method not in AUTH_METHODS or method == "none":
        raise InvalidClientMetadata(f"unsupported token_endpoint_auth_method {method!r}")
    if method != "private_key_jwt":
        if jwks:
            raise InvalidClientMetadata("jwks is only used with private_key_jwt")
        return method, None
    try:
        key_set = KeySet.import_key_set(json.loads(jwks or ""))
    except (ValueError, TypeError, JoseError):
        raise InvalidClientMetadata("jwks must be a JSON JWK Set of public keys") from None
    if not key_set.keys or any(key.is_private for key in key_set.keys):
        raise InvalidClientMetadata("jwks must hold public keys only")
    return method, json.dumps(key_set.as_dict(private=False))


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
    method, key_set = _check_auth(client_type, token_endpoint_auth_method, jwks)
    secret = new_client_secret(ctx.random) if method.startswith("client_secret") else None
    client = Client(
        client_id=ctx.random.token(16),
        client_name=policy.name,
        client_type=client_type,
        secret_hash=hash_client_secret(secret, salt=ctx.random.token(12)) if secret else None,
        redirect_uris=policy.redirect_uris,
        scopes=policy.scopes,
        grant_types=policy.grant_types,
        response_types=policy.response_types,
        token_endpoint_auth_method=method,
        require_pkce=require_pkce,
        access_token_format=access_token_format,
        jwks=key_set,
        created_at=ctx.clock.now(),
    )
    await ctx.stores.clients.add(client)
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
) -> Client:
    """Change a client's policy; what is None stays. The same rules as registration apply.

    Changing grant types without response types derives the response types again, so
    ``--grant-type authorization_code`` alone turns an implicit-capable client code-only.
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
    updated = replace(
        current,
        client_name=policy.name,
        redirect_uris=policy.redirect_uris,
        scopes=policy.scopes,
        grant_types=policy.grant_types,
        response_types=policy.response_types,
        require_pkce=current.require_pkce if require_pkce is None else require_pkce,
        access_token_format=access_token_format or current.access_token_format,
    )
    await ctx.stores.clients.update(updated)
    return updated


async def create_user(*, ctx: Context, username: str, password: str) -> User:
    username = username.strip()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise InvalidRequest("username must be 1-100 characters without spaces")
    if len(password) < 8:
        raise InvalidRequest("password must be at least 8 characters")
    if await ctx.stores.users.get_by_username(username) is not None:
        raise InvalidRequest(f"user {username!r} already exists")
    user = User(
        user_id=ctx.random.token(16),
        username=username,
        password_hash=await ctx.passwords.hash(password),
        created_at=ctx.clock.now(),
    )
    await ctx.stores.users.add(user)
    return user
