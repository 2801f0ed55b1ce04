"""Dynamic client registration (RFC 7591) and client configuration (RFC 7592).

Why: a standard client that knows only the issuer URL can register itself, then read, replace
and delete its own registration, without an operator at the command line.

Invariants, in the order each request checks them:

1. ``POST /register`` needs an initial access token (RFC 7591 §3: ``Authorization: Bearer``),
   unless the operator turned on open registration; a token presented is always checked. A
   missing, wrong, used-up or expired token is 401 ``invalid_token`` with a ``Bearer``
   challenge (RFC 6750 §3), before the body is read.
2. The body is parsed (``core/client_metadata.py``) and validated by the same gate as the
   command line (``core/registration.py``); only then is one use of the initial access token
   taken, atomically (``InitialAccessTokenStore.use``), and the client stored. So a refused
   request stores nothing and costs no use of the token.
3. The server picks ``client_id``, ``client_secret`` and the registration access token
   (RFC 9700 §4.15); it keeps the SHA-256 of the secret's HMAC and of the token, never the
   values, which appear once, in the 201 answer (RFC 7591 §3.2.1).
4. ``/register/{client_id}`` answers only the registration access token of that very client:
   a wrong or missing token, or another client's, is the same 401 (RFC 7592 §2: no 404 that
   would confirm a client id exists).
5. An update (RFC 7592 §2.2) is a full replacement under the same rules; ``client_id`` must be
   the client's, a ``client_secret`` sent must be its current one, and the authentication
   method may change only within what the client's credentials support (a secret client
   between ``client_secret_basic`` and ``client_secret_post``): a new kind of credential is a
   new registration.
6. A delete (RFC 7592 §2.3) removes the client: it can no longer authenticate, so its codes and
   refresh tokens are worthless, and introspection reports its access tokens inactive.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from tokenpath.core.apis import validate_client_apis
from tokenpath.core.auth_metadata import InvalidClientMetadata
from tokenpath.core.bearer import header_token
from tokenpath.core.client_auth import MAX_CLIENT_ID, verify_client_secret
from tokenpath.core.client_metadata import ClientMetadata, client_information, parse_metadata
from tokenpath.core.clock import constant_time_equals, hash_token
from tokenpath.core.context import Context
from tokenpath.core.errors import InvalidRequest, InvalidToken, OAuthError
from tokenpath.core.messages import NO_STORE, JsonResponse
from tokenpath.core.records import Client, ClientType, InitialAccessToken
from tokenpath.core.registration import add_client, admin_change, check_client
from tokenpath.core.revocation_feed import revoke_client_grants

__all__ = [
    "RegistrationRequest",
    "create_initial_access_token",
    "delete_registration",
    "read_registration",
    "register",
    "update_registration",
]

_SECRET_METHODS = frozenset({"client_secret_basic", "client_secret_post"})
_UNNAMED = "Unnamed client"


@dataclass(frozen=True, slots=True, kw_only=True)
class RegistrationRequest:
    """One request to ``/register`` or ``/register/{client_id}``, before any parsing."""

    body: bytes = b""
    content_type: str | None = None
    authorization: str | None = None
    """The ``Authorization`` header, verbatim."""


async def create_initial_access_token(
    ctx: Context, *, uses: int | None = 1, expires_in: int | None = 86400
) -> str:
    """A new initial access token (shown once; stored as its SHA-256).

    ``uses`` None admits any number of registrations, ``expires_in`` None never expires.
    """
    if (uses is not None and uses < 1) or (expires_in is not None and expires_in < 1):
        raise InvalidRequest("uses and expires_in must be positive (or None for no limit)")
    token = ctx.random.token(32)
    now = ctx.clock.now()
    await ctx.stores.initial_access_tokens.add(
        InitialAccessToken(
            token_hash=hash_token(token),
            uses_left=uses,
            expires_at=None if expires_in is None else now + expires_in,
            created_at=now,
        )
    )
    admin_change(ctx, "initial_access_token.create")
    return token


def _bearer(authorization: str | None) -> str:
    """RFC 6750 §2.1: ``Bearer <token>``; anything else is no token at all (RFC 7591 §3 and
    RFC 7592 §2 answer both with 401 ``invalid_token``)."""
    try:
        token = header_token((authorization or "").strip())
    except InvalidRequest:
        token = None
    if token is None:
        raise InvalidToken("a Bearer token is required")
    return token


def _reply(status: int, body: dict[str, object]) -> JsonResponse:
    return JsonResponse(status=status, body=body, headers=NO_STORE)


def _error(error: OAuthError) -> JsonResponse:
    headers = NO_STORE
    if isinstance(error, InvalidToken):
        headers = (*NO_STORE, ("WWW-Authenticate", 'Bearer error="invalid_token"'))
    return JsonResponse(status=error.status, body=error.to_dict(), headers=headers)


def _host(uri: str) -> str | None:
    try:
        return urlsplit(uri).hostname
    except ValueError:
        return None  # validation refuses the URI itself


def _defaults(metadata: ClientMetadata, ctx: Context) -> tuple[str, tuple[str, ...]]:
    """The name and scopes of a client that sent none: its redirect host; every scope offered."""
    name = metadata.client_name
    if name is None:
        hosts = [_host(uri) for uri in metadata.redirect_uris[:1]]
        name = hosts[0] if hosts and hosts[0] else _UNNAMED
    if metadata.scope is None:
        return name, ctx.policy.scopes_supported
    return name, tuple(metadata.scope.split())


def _check(metadata: ClientMetadata, ctx: Context, client_type: ClientType) -> Client:
    """Every registration rule, without storing anything; the client as it would be stored."""
    name, scopes = _defaults(metadata, ctx)
    grants, responses = metadata.grants_and_responses()
    return check_client(
        ctx,
        name=name,
        client_type=client_type,
        redirect_uris=metadata.redirect_uris,
        scopes=scopes,
        grant_types=grants,
        response_types=responses,
        token_endpoint_auth_method=metadata.token_endpoint_auth_method,
        jwks=metadata.jwks,
        jwks_uri=metadata.jwks_uri,
        post_logout_redirect_uris=metadata.post_logout_redirect_uris,
        backchannel_logout_uri=metadata.backchannel_logout_uri,
        subject_type=metadata.subject_type,
        application_type=metadata.application_type,
        dpop_bound_access_tokens=metadata.dpop_bound_access_tokens,
        dynamic=True,
        require_pushed_authorization_requests=metadata.require_pushed_authorization_requests,
    )


def _type_of(metadata: ClientMetadata) -> ClientType:
    return ClientType.PUBLIC if metadata.public else ClientType.CONFIDENTIAL


async def _initial_token(request: RegistrationRequest, ctx: Context, *, open_: bool) -> str | None:
    """The hash of a usable initial access token; None under open registration without one."""
    if request.authorization is None and open_:
        return None
    token_hash = hash_token(_bearer(request.authorization))
    if await ctx.stores.initial_access_tokens.get(token_hash, ctx.clock.now()) is None:
        raise InvalidToken("the initial access token is unknown, used up or expired")
    return token_hash


async def register(
    request: RegistrationRequest, *, ctx: Context, open_registration: bool = False
) -> JsonResponse:
    """RFC 7591 §3: 201 with the client information response, or the error."""
    try:
        initial = await _initial_token(request, ctx, open_=open_registration)
        metadata = parse_metadata(request.body, request.content_type, update=False)
        client_type = _type_of(metadata)
        checked = await validate_client_apis(ctx, _check(metadata, ctx, client_type))
        if initial is not None and not await ctx.stores.initial_access_tokens.use(
            initial, ctx.clock.now()
        ):
            raise InvalidToken("the initial access token is used up or expired")
        registration_token = ctx.random.token(32)
        client, secret = await add_client(
            ctx, checked, registration_access_token_hash=hash_token(registration_token)
        )
    except OAuthError as error:
        return _error(error)
    body = client_information(
        client,
        registration_client_uri=_configuration_uri(client, ctx),
        registration_access_token=registration_token,
        client_secret=secret,
    )
    return _reply(201, body)


def _configuration_uri(client: Client, ctx: Context) -> str:
    """RFC 7592 §3: where the client reads, replaces and deletes its registration."""
    return ctx.policy.endpoint(f"/register/{client.client_id}")


async def _authorized(client_id: str, request: RegistrationRequest, ctx: Context) -> Client:
    """The client whose registration access token was presented (RFC 7592 §2)."""
    token = _bearer(request.authorization)
    client = await ctx.stores.clients.get(client_id) if len(client_id) <= MAX_CLIENT_ID else None
    stored = client.registration_access_token_hash if client is not None else None
    if client is None or stored is None or not constant_time_equals(hash_token(token), stored):
        raise InvalidToken("the registration access token is not valid for this client")
    return client


def _information(client: Client, request: RegistrationRequest, ctx: Context) -> JsonResponse:
    token = _bearer(request.authorization)
    uri = _configuration_uri(client, ctx)
    body = client_information(client, registration_client_uri=uri, registration_access_token=token)
    return _reply(200, body)


async def read_registration(
    client_id: str, request: RegistrationRequest, *, ctx: Context
) -> JsonResponse:
    """RFC 7592 §2.1: the client's current registration."""
    try:
        client = await _authorized(client_id, request, ctx)
    except OAuthError as error:
        return _error(error)
    return _information(client, request, ctx)


def _same_credentials(current: Client, metadata: ClientMetadata) -> None:
    """RFC 7592 §2.2: the client's own id and secret; no change to another kind of credential."""
    if metadata.client_id != current.client_id:
        raise InvalidRequest("client_id must be this client's client_id")
    secret = metadata.client_secret
    if secret is not None and not verify_client_secret(secret, current.secret_hash):
        raise InvalidRequest("client_secret must be the current client secret")
    before, after = current.token_endpoint_auth_method, metadata.token_endpoint_auth_method
    after = after or ("private_key_jwt" if metadata.jwks or metadata.jwks_uri else None)
    after = after or "client_secret_basic"
    if before != after and not {before, after} <= _SECRET_METHODS:
        raise InvalidClientMetadata(
            f"token_endpoint_auth_method cannot change from {before} to {after}; "
            "register a new client instead"
        )


async def update_registration(
    client_id: str, request: RegistrationRequest, *, ctx: Context
) -> JsonResponse:
    """RFC 7592 §2.2: replace the client's metadata with the request's, under the same rules."""
    try:
        current = await _authorized(client_id, request, ctx)
        metadata = parse_metadata(request.body, request.content_type, update=True)
        _same_credentials(current, metadata)
        checked = _check(metadata, ctx, current.client_type)
    except OAuthError as error:
        return _error(error)
    updated = replace(
        checked,
        client_id=current.client_id,
        secret_hash=current.secret_hash,
        require_pkce=current.require_pkce,
        access_token_format=current.access_token_format,
        registration_access_token_hash=current.registration_access_token_hash,
        default_scopes=tuple(s for s in current.default_scopes if s in checked.scopes),
        resources=current.resources,
        default_resource=current.default_resource,
        created_at=current.created_at,
    )
    try:
        updated = await validate_client_apis(ctx, updated)
    except OAuthError as error:
        return _error(error)
    await ctx.stores.clients.update(updated)
    admin_change(ctx, "client.update", client_id=client_id)
    return _information(updated, request, ctx)


async def delete_registration(
    client_id: str, request: RegistrationRequest, *, ctx: Context
) -> JsonResponse:
    """RFC 7592 §2.3: 204, and the client is gone."""
    try:
        client = await _authorized(client_id, request, ctx)
    except OAuthError as error:
        return _error(error)
    await revoke_client_grants(ctx, client.client_id)  # JWT-validating APIs learn of it too
    await ctx.stores.clients.delete(client.client_id)
    admin_change(ctx, "client.delete", client_id=client.client_id)
    return JsonResponse(status=204, body={}, headers=NO_STORE)
