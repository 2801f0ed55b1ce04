"""Registering clients and users: the only way records enter the stores.

Validation follows RFC 7591 §2 vocabulary and RFC 6749 §3.1.2 / RFC 9700 §2.1 redirect rules, so
the CLI today and dynamic registration later share one gate. Client ids are server-assigned
(RFC 9700 §4.15: clients must not pick identifiers that could collide with users).
"""

from __future__ import annotations

from collections.abc import Sequence

from tokenpath.core.client_auth import hash_client_secret, new_client_secret
from tokenpath.core.context import Context
from tokenpath.core.errors import InvalidRequest, OAuthError
from tokenpath.core.params import parse_scope
from tokenpath.core.records import Client, ClientType, GrantType, ResponseType, User
from tokenpath.core.redirect_uris import InvalidRedirectUri, validate_registered_redirect_uri

__all__ = ["InvalidClientMetadata", "InvalidRedirectUri", "create_user", "register_client"]

_RESPONSE_FOR_GRANT = {
    GrantType.AUTHORIZATION_CODE: ResponseType.CODE,
    GrantType.IMPLICIT: ResponseType.TOKEN,
}


class InvalidClientMetadata(OAuthError):
    """RFC 7591 §3.2.2 ``invalid_client_metadata``."""

    error = "invalid_client_metadata"


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidClientMetadata("client name must be 1-200 characters")
    return name


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
) -> tuple[Client, str | None]:
    """Create a client; returns it with its plain secret (None for public clients), shown once."""
    if not redirect_uris:
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
    grants = tuple(dict.fromkeys(GrantType(g) for g in grant_types))
    if GrantType.IMPLICIT in grants and client_type is not ClientType.PUBLIC:
        raise InvalidClientMetadata("only public clients may use the implicit grant")
    if response_types is None:
        response_types = [_RESPONSE_FOR_GRANT[g] for g in grants if g in _RESPONSE_FOR_GRANT]
    responses = tuple(dict.fromkeys(ResponseType(r) for r in response_types))
    for response in responses:
        if response is ResponseType.TOKEN and GrantType.IMPLICIT not in grants:
            raise InvalidClientMetadata("response_type token needs grant_type implicit")
        if response is ResponseType.CODE and GrantType.AUTHORIZATION_CODE not in grants:
            raise InvalidClientMetadata("response_type code needs grant_type authorization_code")
    secret = new_client_secret(ctx.random) if client_type is ClientType.CONFIDENTIAL else None
    client = Client(
        client_id=ctx.random.token(16),
        client_name=_check_name(name),
        client_type=client_type,
        secret_hash=hash_client_secret(secret, salt=ctx.random.token(12)) if secret else None,
        redirect_uris=uris,
        scopes=tuple(scope_list),
        grant_types=grants,
        response_types=responses,
        token_endpoint_auth_method="client_secret_basic" if secret else "none",
        require_pkce=require_pkce,
        created_at=ctx.clock.now(),
    )
    await ctx.stores.clients.add(client)
    return client, secret


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
        password_hash=ctx.passwords.hash(password),
        created_at=ctx.clock.now(),
    )
    await ctx.stores.users.add(user)
    return user
