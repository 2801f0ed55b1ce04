"""Registering clients and users: the only way records enter the stores.

Validation follows RFC 7591 §2 vocabulary and RFC 6749 §3.1.2 / RFC 9700 §2.1 redirect rules, so
the CLI and dynamic registration (``core/dynamic_registration.py``) share one gate:
:func:`validate_metadata` and :func:`check_auth`. Client ids are server-assigned
(RFC 9700 §4.15: clients must not pick identifiers that could collide with users).

Which client types may hold a grant, which grants need another, and which grant each response
type belongs to are read from the rows of ``core.grants.registry`` and ``core.response_types``
(RFC 7591 §2.1: grant types and response types must agree).

A user may carry OpenID Connect standard claims (Core §5.1), validated by ``core/claims.py``
whenever they are set.

A ``private_key_jwt`` client registers its public keys inline (``jwks``) or by reference
(``jwks_uri``), never both (RFC 7591 §2). Logout URIs follow the redirect URI rules
(RP-Initiated Logout 1.0 §3.1, Back-Channel Logout 1.0 §2.2); a ``pairwise`` client (OIDC Core
§8.1) needs the server's pairwise salt and redirect URIs on one host, its sector; RFC 8252 §7.1
private-use schemes are for ``native`` public clients only (OIDC Registration §2). Token
endpoint authentication (method, keys) is checked by ``core/auth_metadata.py``.

Each registration, change and new user is an ``admin.change`` security event
(``core/events.py``), so an operator sees who may now sign in or ask for tokens; the event names
identifiers only, never a secret or password.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from tokenpath.core.auth_metadata import (
    ClientAuthentication,
    InvalidClientMetadata,
    check_auth,
    check_server_uri,
)
from tokenpath.core.claims import validate_claims
from tokenpath.core.client_auth import hash_client_secret, new_client_secret
from tokenpath.core.context import Context
from tokenpath.core.errors import InvalidRequest
from tokenpath.core.events import Event, EventName
from tokenpath.core.grants.registry import grant_spec
from tokenpath.core.params import parse_scope
from tokenpath.core.policy import Policy
from tokenpath.core.records import Client, ClientType, GrantType, ResponseType, User
from tokenpath.core.redirect_uris import InvalidRedirectUri, validate_registered_redirect_uri
from tokenpath.core.response_types import RESPONSE_TYPES, response_type_spec

__all__ = [
    "APPLICATION_TYPES",
    "SUBJECT_TYPES",
    "ClientAuthentication",
    "InvalidClientMetadata",
    "InvalidRedirectUri",
    "ValidatedMetadata",
    "admin_change",
    "check_auth",
    "create_user",
    "register_client",
    "update_client",
    "validate_metadata",
]

SUBJECT_TYPES = ("public", "pairwise")
APPLICATION_TYPES = ("web", "native")


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidClientMetadata("client name must be 1-200 characters")
    return name


def _check_grants(
    client_type: ClientType,
    grants: tuple[GrantType, ...],
    responses: tuple[ResponseType, ...],
    offered: Policy | None,
) -> None:
    """RFC 7591 §2.1; with ``offered``, only grants that policy enables (the implicit switch)."""
    public = client_type is ClientType.PUBLIC
    if not grants:
        raise InvalidClientMetadata("at least one grant type is required")
    for grant in grants:
        spec = grant_spec(grant)
        if spec is None:
            raise InvalidClientMetadata(f"unknown grant type {grant}")
        if offered is not None and not spec.enabled(offered):
            raise InvalidClientMetadata(f"the {grant} grant is not offered by this server")
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


@dataclass(frozen=True, slots=True)
class ValidatedMetadata:
    """The validated redirect-, grant- and OpenID-related metadata of a client."""

    name: str
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    grant_types: tuple[GrantType, ...]
    response_types: tuple[ResponseType, ...]
    post_logout_redirect_uris: tuple[str, ...] = ()
    backchannel_logout_uri: str | None = None
    subject_type: str = "public"
    application_type: str = "web"


def _redirect_uris(uris: Sequence[str], *, native: bool) -> tuple[str, ...]:
    return tuple(dict.fromkeys(validate_registered_redirect_uri(u, native=native) for u in uris))


def _application_type(
    client_type: ClientType, requested: str | None, redirect_uris: Sequence[str]
) -> str:
    """OIDC Registration §2; None (the CLI) derives it: a public client with a private-use
    scheme redirect URI is native."""
    if requested is None:
        private_use = any(urlsplit(u).scheme not in ("http", "https") for u in redirect_uris)
        return "native" if client_type is ClientType.PUBLIC and private_use else "web"
    if requested not in APPLICATION_TYPES:
        raise InvalidClientMetadata("application_type must be web or native")
    return requested


def _subject_type(subject_type: str, redirect_uris: tuple[str, ...], ctx: Context) -> str:
    """OIDC Core §8.1: a pairwise client needs the server's salt and one sector host."""
    if subject_type not in SUBJECT_TYPES:
        raise InvalidClientMetadata("subject_type must be public or pairwise")
    if subject_type == "pairwise":
        if not ctx.policy.pairwise_salt:
            raise InvalidClientMetadata("this server offers no pairwise subject identifiers")
        if len({urlsplit(u).hostname or u for u in redirect_uris}) != 1:
            raise InvalidClientMetadata("a pairwise client's redirect URIs must share one host")
    return subject_type


def validate_metadata(
    ctx: Context,
    *,
    client_type: ClientType,
    name: str,
    redirect_uris: Sequence[str],
    scopes: Sequence[str],
    grant_types: Sequence[GrantType],
    response_types: Sequence[ResponseType] | None,
    access_token_format: str = "jwt",  # noqa: S107 - a format name, not a secret
    post_logout_redirect_uris: Sequence[str] = (),
    backchannel_logout_uri: str | None = None,
    subject_type: str = "public",
    application_type: str | None = None,
    offered_only: bool = False,
) -> ValidatedMetadata:
    """Every rule a client's metadata must meet; ``offered_only`` also refuses grants the
    server has switched off (dynamic registration: RFC 7591 §3.2.2 ``invalid_client_metadata``)."""
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
    _check_grants(client_type, grants, responses, ctx.policy if offered_only else None)
    if responses and not redirect_uris:
        raise InvalidRedirectUri("at least one redirect URI is required")
    app_type = _application_type(client_type, application_type, redirect_uris)
    native = client_type is ClientType.PUBLIC and app_type == "native"
    uris = _redirect_uris(redirect_uris, native=native)
    scope_list = parse_scope(" ".join(scopes)) if scopes else ()
    unknown = [s for s in scope_list or () if s not in ctx.policy.scopes_supported]
    if not scope_list or unknown:
        raise InvalidClientMetadata(
            f"scopes must be among: {' '.join(ctx.policy.scopes_supported)}"
        )
    if access_token_format not in ("jwt", "opaque"):
        raise InvalidClientMetadata("access_token_format must be jwt or opaque")
    backchannel = backchannel_logout_uri
    if backchannel is not None:
        backchannel = check_server_uri(backchannel, "backchannel_logout_uri")
    return ValidatedMetadata(
        name=_check_name(name),
        redirect_uris=uris,
        scopes=tuple(scope_list),
        grant_types=grants,
        response_types=responses,
        post_logout_redirect_uris=_redirect_uris(post_logout_redirect_uris, native=native),
        backchannel_logout_uri=backchannel,
        subject_type=_subject_type(subject_type, uris, ctx),
        application_type=app_type,
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
    post_logout_redirect_uris: Sequence[str] = (),
    backchannel_logout_uri: str | None = None,
    subject_type: str = "public",
    application_type: str | None = None,
    registration_access_token_hash: str | None = None,
) -> tuple[Client, str | None]:
    """Create a client; returns it with its plain secret (None when it has none), shown once.

    With ``registration_access_token_hash`` the client is ``dynamic`` (registered over HTTP,
    RFC 7591): only the grants the server offers are accepted, and it may manage itself with
    that token (RFC 7592).
    """
    dynamic = registration_access_token_hash is not None
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
        post_logout_redirect_uris=policy.post_logout_redirect_uris,
        backchannel_logout_uri=policy.backchannel_logout_uri,
        subject_type=policy.subject_type,
        application_type=policy.application_type,
        dynamic=dynamic,
        registration_access_token_hash=registration_access_token_hash,
        created_at=ctx.clock.now(),
    )
    await ctx.stores.clients.add(client)
    admin_change(ctx, "client.register" if dynamic else "client.add", client_id=client.client_id)
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
    )
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
