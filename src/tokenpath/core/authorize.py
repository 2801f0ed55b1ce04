"""The authorization endpoint (RFC 6749 §4.1.1-4.1.2, §4.2.1-4.2.2) as an ordered pipeline.

Where an error goes is decided by its place in the pipeline (RFC 6749 §4.1.2.1):

1. ``UNTRUSTED_CHECKS`` run before the client and redirect URI are known good; their errors
   become an :class:`ErrorPage` at the AS and never a redirect (RFC 9700 §4.11.2).
2. ``TRUSTED_CHECKS`` run after; their errors go back to the client's redirect URI with
   ``error``, ``error_description``, ``state`` and ``iss`` (RFC 9207) in the response mode.
3. Then the interactive steps: login, consent (remembered per user, client and scopes), issue.

``tests/core/test_authorize.py`` pins the order of both tuples.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from tokenpath.core import pkce
from tokenpath.core.clock import hash_token
from tokenpath.core.context import Context
from tokenpath.core.errors import (
    AccessDenied,
    ConsentRequired,
    InvalidRequest,
    InvalidScope,
    LoginRequired,
    OAuthError,
    UnauthorizedClient,
    UnsupportedResponseType,
)
from tokenpath.core.issuance import issue_access_token
from tokenpath.core.messages import ConsentPrompt, Decision, ErrorPage, LoginPrompt
from tokenpath.core.params import format_scope, parse_pairs, parse_scope
from tokenpath.core.policy import Policy
from tokenpath.core.records import (
    AuthorizationCode,
    Client,
    Grant,
    GrantType,
    ResponseType,
    Session,
)
from tokenpath.core.redirect_uris import match_redirect_uri
from tokenpath.core.response_modes import ResponseMode, deliver

__all__ = ["TRUSTED_CHECKS", "UNTRUSTED_CHECKS", "ValidatedRequest", "authorize", "validate"]

ConsentAnswer = Literal["approve", "deny"]
_PROMPTS = frozenset({"none", "consent", "login", "select_account"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidatedRequest:
    """An authorization request every check has passed."""

    client: Client
    redirect_uri: str
    redirect_uri_in_request: bool
    response_type: ResponseType
    response_mode: ResponseMode
    scopes: tuple[str, ...]
    scope_requested: bool
    state: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None
    prompt: frozenset[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Target:
    """Where errors may be sent once the client and redirect URI are trusted."""

    client: Client
    redirect_uri: str
    redirect_uri_in_request: bool


# --- stage 1: before the redirect URI is trusted -------------------------------------------


def check_client_id(params: Mapping[str, str]) -> None:
    if "client_id" not in params:
        raise InvalidRequest("missing parameter client_id")


def check_redirect_uri_syntax(params: Mapping[str, str]) -> None:
    uri = params.get("redirect_uri")
    if uri is not None and "#" in uri:
        raise InvalidRequest("redirect_uri must not contain a fragment")


UNTRUSTED_CHECKS: tuple[Callable[[Mapping[str, str]], None], ...] = (
    check_client_id,
    check_redirect_uri_syntax,
)


def _resolve_redirect_uri(params: Mapping[str, str], client: Client) -> _Target:
    requested = params.get("redirect_uri")
    if requested is None:
        if len(client.redirect_uris) != 1:
            raise InvalidRequest("redirect_uri is required: the client has several registered")
        return _Target(
            client=client, redirect_uri=client.redirect_uris[0], redirect_uri_in_request=False
        )
    if not match_redirect_uri(requested, client.redirect_uris):
        raise InvalidRequest("redirect_uri is not registered for this client")
    return _Target(client=client, redirect_uri=requested, redirect_uri_in_request=True)


# --- stage 2: errors go back to the client ---------------------------------------------------


def _response_type(params: Mapping[str, str]) -> ResponseType:
    raw = params.get("response_type")
    if raw is None:
        raise InvalidRequest("missing parameter response_type")
    try:
        return ResponseType(raw)
    except ValueError:
        raise UnsupportedResponseType(f"response_type {raw!r} is not supported") from None


def check_response_type_supported(
    params: Mapping[str, str], client: Client, policy: Policy
) -> None:
    response_type = _response_type(params)
    if response_type is ResponseType.TOKEN and not policy.allow_implicit:
        raise UnsupportedResponseType("the implicit grant is disabled on this server")


def check_response_type_allowed(params: Mapping[str, str], client: Client, policy: Policy) -> None:
    response_type = _response_type(params)
    if response_type not in client.response_types:
        raise UnauthorizedClient(f"this client may not use response_type={response_type.value}")
    if response_type is ResponseType.TOKEN and (
        not client.is_public or GrantType.IMPLICIT not in client.grant_types
    ):
        raise UnauthorizedClient("this client may not use the implicit grant")
    if (
        response_type is ResponseType.CODE
        and GrantType.AUTHORIZATION_CODE not in client.grant_types
    ):
        raise UnauthorizedClient("this client may not use the authorization code grant")


def check_response_mode(params: Mapping[str, str], client: Client, policy: Policy) -> None:
    _response_mode(params)


def check_scope(params: Mapping[str, str], client: Client, policy: Policy) -> None:
    _scopes(params, client, policy)


def check_pkce(params: Mapping[str, str], client: Client, policy: Policy) -> None:
    if _response_type(params) is not ResponseType.CODE:
        return
    required = client.is_public or client.require_pkce or policy.require_pkce_for_confidential
    pkce.check_challenge(
        params.get("code_challenge"), params.get("code_challenge_method"), required=required
    )


def check_prompt(params: Mapping[str, str], client: Client, policy: Policy) -> None:
    prompt = _prompt(params)
    if "none" in prompt and len(prompt) > 1:
        raise InvalidRequest("prompt=none cannot be combined with other values")
    if "login" in prompt:
        raise InvalidRequest("prompt=login is not supported")


TRUSTED_CHECKS: tuple[Callable[[Mapping[str, str], Client, Policy], None], ...] = (
    check_response_type_supported,
    check_response_type_allowed,
    check_response_mode,
    check_scope,
    check_pkce,
    check_prompt,
)


def _response_mode(params: Mapping[str, str]) -> ResponseMode:
    response_type = _response_type(params)
    default = ResponseMode.QUERY if response_type is ResponseType.CODE else ResponseMode.FRAGMENT
    raw = params.get("response_mode")
    if raw is None:
        return default
    try:
        mode = ResponseMode(raw)
    except ValueError:
        raise InvalidRequest(f"response_mode {raw!r} is not supported") from None
    if mode is ResponseMode.QUERY and response_type is not ResponseType.CODE:
        raise InvalidRequest("tokens are never delivered in the query")
    return mode


def _scopes(params: Mapping[str, str], client: Client, policy: Policy) -> tuple[str, ...]:
    requested = parse_scope(params.get("scope"))
    if requested is None:
        scopes = client.default_scopes or client.scopes
        if not scopes:
            raise InvalidScope("no scope requested and the client has no default scope")
        return tuple(scopes)
    unknown = [s for s in requested if s not in client.scopes or s not in policy.scopes_supported]
    if unknown:
        raise InvalidScope(f"scope not allowed for this client: {' '.join(unknown)}")
    return requested


def _prompt(params: Mapping[str, str]) -> frozenset[str]:
    raw = params.get("prompt")
    values = frozenset(raw.split(" ")) if raw else frozenset()
    if not values <= _PROMPTS:
        raise InvalidRequest("unknown prompt value")
    return values


def _error_mode(params: Mapping[str, str]) -> ResponseMode:
    """The response mode for an error redirect, even when the request's own values are bad."""
    token_like = "token" in params.get("response_type", "").split(" ")
    if params.get("response_mode") == ResponseMode.FORM_POST.value:
        return ResponseMode.FORM_POST
    return ResponseMode.FRAGMENT if token_like else ResponseMode.QUERY


# --- the pipeline -----------------------------------------------------------------------------


async def validate(
    pairs: Sequence[tuple[str, str]], ctx: Context
) -> tuple[ValidatedRequest | None, Decision | None]:
    """Run both check stages: a validated request, or the decision that ends the request."""
    policy = ctx.policy
    try:
        params = parse_pairs(pairs, max_length=policy.max_param_length)
        for untrusted_check in UNTRUSTED_CHECKS:
            untrusted_check(params)
        client = await ctx.stores.clients.get(params["client_id"])
        if client is None:
            raise InvalidRequest("unknown client_id")
        target = _resolve_redirect_uri(params, client)
    except OAuthError as error:
        return None, ErrorPage(error=error, status=400)
    try:
        for check in TRUSTED_CHECKS:
            check(params, client, policy)
    except OAuthError as error:
        return None, _error_redirect(target, params, error, policy)
    request = ValidatedRequest(
        client=client,
        redirect_uri=target.redirect_uri,
        redirect_uri_in_request=target.redirect_uri_in_request,
        response_type=_response_type(params),
        response_mode=_response_mode(params),
        scopes=_scopes(params, client, policy),
        scope_requested="scope" in params,
        state=params.get("state"),
        code_challenge=params.get("code_challenge"),
        code_challenge_method=params.get("code_challenge_method"),
        nonce=params.get("nonce"),
        prompt=_prompt(params),
    )
    return request, None


def _error_redirect(
    target: _Target, params: Mapping[str, str], error: OAuthError, policy: Policy
) -> Decision:
    fields = list(error.to_dict().items())
    if "state" in params:
        fields.append(("state", params["state"]))
    fields.append(("iss", policy.issuer))
    return deliver(target.redirect_uri, _error_mode(params), fields)


def _reply(request: ValidatedRequest, ctx: Context, fields: list[tuple[str, str]]) -> Decision:
    if request.state is not None:
        fields.append(("state", request.state))
    fields.append(("iss", ctx.policy.issuer))
    return deliver(request.redirect_uri, request.response_mode, fields)


def _fail(request: ValidatedRequest, ctx: Context, error: OAuthError) -> Decision:
    return _reply(request, ctx, list(error.to_dict().items()))


async def authorize(
    pairs: Sequence[tuple[str, str]],
    *,
    ctx: Context,
    session: Session | None,
    consent: ConsentAnswer | None = None,
) -> Decision:
    """Decide one authorization request; ``consent`` is the user's answer on the consent form."""
    request, decision = await validate(pairs, ctx)
    if decision is not None:
        return decision
    assert request is not None
    if session is None:
        if "none" in request.prompt:
            return _fail(request, ctx, LoginRequired("the user is not signed in"))
        return LoginPrompt(client=request.client)
    if consent == "deny":
        return _fail(request, ctx, AccessDenied("the user denied the request"))
    consents = ctx.stores.consents
    if consent == "approve":
        await consents.add(
            session.user_id, request.client.client_id, frozenset(request.scopes), ctx.clock.now()
        )
    else:
        approved = await consents.get(session.user_id, request.client.client_id)
        if "consent" in request.prompt or not set(request.scopes) <= approved:
            if "none" in request.prompt:
                return _fail(
                    request, ctx, ConsentRequired("the user has not approved these scopes")
                )
            host = urlsplit(request.redirect_uri).netloc or request.redirect_uri
            return ConsentPrompt(client=request.client, scopes=request.scopes, redirect_host=host)
    return await _issue(request, session, ctx)


async def _issue(request: ValidatedRequest, session: Session, ctx: Context) -> Decision:
    now = ctx.clock.now()
    grant = Grant(
        grant_id=ctx.random.token(16),
        client_id=request.client.client_id,
        user_id=session.user_id,
        scope=request.scopes,
        created_at=now,
        auth_time=session.auth_time,
    )
    await ctx.stores.grants.add(grant)
    if request.response_type is ResponseType.TOKEN:
        return await _issue_implicit(request, grant, ctx)
    code = ctx.random.token(32)
    await ctx.stores.codes.add(
        AuthorizationCode(
            code_hash=hash_token(code),
            grant_id=grant.grant_id,
            client_id=request.client.client_id,
            user_id=session.user_id,
            redirect_uri=request.redirect_uri,
            redirect_uri_in_request=request.redirect_uri_in_request,
            scope=request.scopes,
            code_challenge=request.code_challenge,
            code_challenge_method=request.code_challenge_method,
            nonce=request.nonce,
            auth_time=session.auth_time,
            issued_at=now,
            expires_at=now + ctx.policy.code_lifetime,
        )
    )
    return _reply(request, ctx, [("code", code)])


async def _issue_implicit(request: ValidatedRequest, grant: Grant, ctx: Context) -> Decision:
    """RFC 6749 §4.2.2: the token itself in the fragment; never a refresh token."""
    issued = await issue_access_token(
        ctx,
        grant_id=grant.grant_id,
        client_id=grant.client_id,
        subject=grant.user_id or grant.client_id,
        scope=grant.scope,
        grant_type=GrantType.IMPLICIT,
        lifetime=ctx.policy.implicit_access_token_lifetime,
        auth_time=grant.auth_time,
    )
    fields = [
        ("access_token", issued.token),
        ("token_type", "Bearer"),
        ("expires_in", str(issued.expires_in)),
        ("scope", format_scope(grant.scope)),
    ]
    return _reply(request, ctx, fields)
