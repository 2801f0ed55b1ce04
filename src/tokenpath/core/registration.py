"""Registering clients and users: the only way records enter the stores.

The rules are in one place, so the CLI, dynamic registration (``core/dynamic_registration.py``)
and updates share one gate: :func:`check_client` applies ``core/client_rules.py`` (names, URIs,
grant and response types, subject and application type) and ``core/auth_metadata.py`` (token
endpoint authentication) and builds the client without storing it; :func:`add_client` gives it a
server-assigned id (RFC 9700 §4.15: clients must not pick identifiers that could collide with
users) and a secret, and stores it. A user may carry OpenID Connect standard claims (Core §5.1),
validated by ``core/claims.py`` whenever they are set.

Each registration, change and new user is an ``admin.change`` security event
(``core/events.py``), so an operator sees who may now sign in or ask for tokens; the event names
identifiers only, never a secret or password.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from tokenpath.core.apis import validate_client_apis
from tokenpath.core.auth_metadata import (
    ClientAuthentication,
    InvalidClientMetadata,
    check_auth,
)
from tokenpath.core.claims import validate_claims
from tokenpath.core.client_auth import hash_client_secret, new_client_secret
from tokenpath.core.client_rules import validate_metadata
from tokenpath.core.context import Context
from tokenpath.core.errors import InvalidRequest
from tokenpath.core.events import Event, EventName
from tokenpath.core.records import Client, ClientType, GrantType, ResponseType, User
from tokenpath.core.redirect_uris import InvalidRedirectUri

__all__ = [
    "ClientAuthentication",
    "InvalidClientMetadata",
    "InvalidRedirectUri",
    "add_client",
    "admin_change",
    "check_auth",
    "check_client",
    "create_user",
    "register_client",
    "update_client",
    "validate_metadata",
]


def admin_change(ctx: Context, action: str, *, client_id: str = "", user_id: str = "") -> None:
    ctx.events.emit(
        Event(
            name=EventName.ADMIN_CHANGE,
            outcome="changed",
            client_id=client_id or None,
            user_id=user_id or None,
            extra=(("action", action),),
        )
    )


def check_client(
    ctx: Context,
    *,
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
    post_logout_redirect_uris: Sequence[str] = (),
    backchannel_logout_uri: str | None = None,
    subject_type: str = "public",
    application_type: str | None = None,
    dpop_bound_access_tokens: bool = False,
    dynamic: bool = False,
    require_pushed_authorization_requests: bool = False,
    resources: Sequence[str] = (),
    default_resource: str | None = None,
) -> Client:
    """Every registration rule, storing nothing: the client as it would be stored, without the
    identifier, secret and time that :func:`add_client` gives it.

    A ``dynamic`` client (registered over HTTP, RFC 7591) may use only the grants the server
    offers. Dynamic registration checks first and takes the initial access token only then, so a
    refused request uses nothing up.
    """
    policy = validate_metadata(
        ctx,
        client_type=client_type,
        name=name,
        redirect_uris=redirect_uris,
        scopes=scopes,
        grant_types=grant_types,
        response_types=response_types,
        access_token_format=access_token_format,
        post_logout_redirect_uris=post_logout_redirect_uris,
        backchannel_logout_uri=backchannel_logout_uri,
        subject_type=subject_type,
        application_type=application_type,
        offered_only=dynamic,
    )
    auth = check_auth(client_type, token_endpoint_auth_method, jwks, jwks_uri)
    return Client(
        client_id="",
        client_name=policy.name,
        client_type=client_type,
        secret_hash=None,
        redirect_uris=policy.redirect_uris,
        scopes=policy.scopes,
        grant_types=policy.grant_types,
        response_types=policy.response_types,
        token_endpoint_auth_method=auth.method,
        require_pkce=require_pkce,
        access_token_format=access_token_format,
        jwks=auth.jwks,
        jwks_uri=auth.jwks_uri,
        post_logout_redirect_uris=policy.post_logout_redirect_uris,
        backchannel_logout_uri=policy.backchannel_logout_uri,
        subject_type=policy.subject_type,
        application_type=policy.application_type,
        dpop_bound_access_tokens=dpop_bound_access_tokens,
        dynamic=dynamic,
        require_pushed_authorization_requests=require_pushed_authorization_requests,
        resources=tuple(resources),
        default_resource=default_resource,
    )


async def add_client(
    ctx: Context, checked: Client, *, registration_access_token_hash: str | None = None
) -> tuple[Client, str | None]:
    """Store a client :func:`check_client` accepted, with a server-assigned id (RFC 9700
    §4.15) and, for the secret methods, a secret; returns the plain secret, shown once.
    Its APIs and scopes are checked against the API records first (``core/apis.py``)."""
    checked = await validate_client_apis(ctx, checked)
    method = checked.token_endpoint_auth_method
    secret = new_client_secret(ctx.random) if method.startswith("client_secret") else None
    client = replace(
        checked,
        client_id=ctx.random.token(16),
        secret_hash=hash_client_secret(secret, salt=ctx.random.token(12)) if secret else None,
        registration_access_token_hash=registration_access_token_hash,
        created_at=ctx.clock.now(),
    )
    await ctx.stores.clients.add(client)
    action = "client.register" if client.dynamic else "client.add"
    admin_change(ctx, action, client_id=client.client_id)
    return client, secret


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
    post_logout_redirect_uris: Sequence[str] = (),
    backchannel_logout_uri: str | None = None,
    subject_type: str = "public",
    application_type: str | None = None,
    dpop_bound_access_tokens: bool = False,
    registration_access_token_hash: str | None = None,
    require_pushed_authorization_requests: bool = False,
    resources: Sequence[str] = (),
    default_resource: str | None = None,
) -> tuple[Client, str | None]:
    """Create a client; returns it with its plain secret (None when it has none), shown once.

    With ``registration_access_token_hash`` the client is ``dynamic`` (registered over HTTP,
    RFC 7591): only the grants the server offers are accepted, and it may manage itself with
    that token (RFC 7592).
    """
    checked = check_client(
        ctx,
        name=name,
        client_type=client_type,
        redirect_uris=redirect_uris,
        scopes=scopes,
        grant_types=grant_types,
        response_types=response_types,
        require_pkce=require_pkce,
        access_token_format=access_token_format,
        token_endpoint_auth_method=token_endpoint_auth_method,
        jwks=jwks,
        jwks_uri=jwks_uri,
        post_logout_redirect_uris=post_logout_redirect_uris,
        backchannel_logout_uri=backchannel_logout_uri,
        subject_type=subject_type,
        application_type=application_type,
        dpop_bound_access_tokens=dpop_bound_access_tokens,
        dynamic=registration_access_token_hash is not None,
        require_pushed_authorization_requests=require_pushed_authorization_requests,
        resources=resources,
        default_resource=default_resource,
    )
    return await add_client(
        ctx, checked, registration_access_token_hash=registration_access_token_hash
    )


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
    require_pushed_authorization_requests: bool | None = None,
    dpop_bound_access_tokens: bool | None = None,
    resources: Sequence[str] | None = None,
    default_resource: str | None = None,
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
    policy = validate_metadata(
        ctx,
        client_type=current.client_type,
        name=current.client_name if name is None else name,
        redirect_uris=current.redirect_uris if redirect_uris is None else redirect_uris,
        scopes=current.scopes if scopes is None else scopes,
        grant_types=current.grant_types if grant_types is None else grant_types,
        response_types=response_types,
        access_token_format=access_token_format or current.access_token_format,
        post_logout_redirect_uris=current.post_logout_redirect_uris,
        backchannel_logout_uri=current.backchannel_logout_uri,
        subject_type=current.subject_type,
        application_type=current.application_type,
    )
    auth = ClientAuthentication(current.token_endpoint_auth_method, current.jwks, current.jwks_uri)
    if jwks is not None or jwks_uri is not None:
        auth = check_auth(current.client_type, current.token_endpoint_auth_method, jwks, jwks_uri)
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
        require_pushed_authorization_requests=(
            current.require_pushed_authorization_requests
            if require_pushed_authorization_requests is None
            else require_pushed_authorization_requests
        ),
        dpop_bound_access_tokens=current.dpop_bound_access_tokens
        if dpop_bound_access_tokens is None
        else dpop_bound_access_tokens,
        resources=current.resources if resources is None else tuple(resources),
        default_resource=default_resource if default_resource else current.default_resource,
    )
    if resources is not None and updated.default_resource not in updated.resources:
        updated = replace(updated, default_resource=None)
    updated = await validate_client_apis(ctx, updated)
    await ctx.stores.clients.update(updated)
    admin_change(ctx, "client.update", client_id=client_id)
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
    admin_change(ctx, "user.add", user_id=user.user_id)
    return user
