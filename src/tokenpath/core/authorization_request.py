"""The authorization request (RFC 6749 §4.1.1, §4.2.1) parsed once, by an ordered check table.

Why a table: where an error may go is decided by its place in the pipeline (RFC 6749 §4.1.2.1),
and the one place to read that order should be data a test can pin.

Invariants:

1. The raw pairs are parsed once (:func:`~tokenpath.core.params.parse_pairs`); each check reads
   the parameters it needs and *contributes* what it parsed to the stage's draft, so no value is
   computed twice and a later check reads an earlier one's result from the draft.
2. ``UNTRUSTED_CHECKS`` run before the client and redirect URI are known good; their failures
   are a :class:`Rejection` with ``stage="untrusted"`` and no place to send it: the AS shows it
   and never redirects (RFC 9700 §4.11.2). A :class:`TrustedDraft` cannot be built without a
   client and a redirect URI, so the trust boundary is a type.
3. ``TRUSTED_CHECKS`` run after; their failures are a ``stage="trusted"`` :class:`Rejection`
   naming the redirect URI, the response mode for errors and ``state``, so the caller can send
   ``error``, ``error_description``, ``state`` and ``iss`` (RFC 9207) back to the client.
4. :func:`validate` builds no response: ``/authorize`` renders a rejection as a page or an error
   redirect, and a pushed authorization request endpoint (RFC 9126 §2.3) can render the same
   rejection as JSON.

A new check is one function and one row: a parameter such as OIDC ``nonce`` or RFC 8707
``resource`` is a ``TrustedCheck`` that reads ``draft.params`` and sets its draft field (the
OpenID Connect ones live in ``core/openid_request.py``; the draft types in
``core/authorization_drafts.py``); a step that needs a store (the client lookup, RFC 9126
``request_uri``) is an ``UntrustedCheck``, which may await. ``tests/core/test_authorize.py``
pins both tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tokenpath.core import pkce
from tokenpath.core.authorization_drafts import (
    ErrorTarget,
    Rejection,
    Stage,
    TrustedCheck,
    TrustedDraft,
    UntrustedCheck,
    UntrustedDraft,
    ValidatedRequest,
    earlier,
)
from tokenpath.core.context import Context
from tokenpath.core.dpop_request import check_dpop_jkt
from tokenpath.core.errors import (
    InvalidRequest,
    InvalidScope,
    OAuthError,
    UnauthorizedClient,
    UnsupportedResponseType,
)
from tokenpath.core.openid_request import (
    MAX_AGE_DIGITS,
    MAX_NONCE,
    check_login_hint,
    check_max_age,
    check_nonce,
    check_openid_scope,
    check_prompt,
)
from tokenpath.core.params import parse_pairs, parse_scope
from tokenpath.core.policy import Policy
from tokenpath.core.pushed_requests import check_pushed_required, check_request_uri
from tokenpath.core.records import ResponseType
from tokenpath.core.redirect_uris import match_redirect_uri
from tokenpath.core.resources import allowed_scopes, load_apis, resource_values, select_apis
from tokenpath.core.response_modes import ResponseMode
from tokenpath.core.response_types import response_type_spec

__all__ = [
    "MAX_AGE_DIGITS",
    "MAX_NONCE",
    "TRUSTED_CHECKS",
    "UNTRUSTED_CHECKS",
    "ErrorTarget",
    "Rejection",
    "Stage",
    "TrustedCheck",
    "TrustedDraft",
    "UntrustedCheck",
    "UntrustedDraft",
    "ValidatedRequest",
    "validate",
]


# --- stage 1: before the client and redirect URI are trusted ---------------------------------


async def check_client_id(draft: UntrustedDraft, ctx: Context) -> None:
    """RFC 6749 §4.1.1: ``client_id`` is required."""
    if "client_id" not in draft.params:
        raise InvalidRequest("missing parameter client_id")


async def check_redirect_uri_syntax(draft: UntrustedDraft, ctx: Context) -> None:
    """RFC 6749 §3.1.2: a redirection endpoint URI carries no fragment."""
    uri = draft.params.get("redirect_uri")
    if uri is not None and "#" in uri:
        raise InvalidRequest("redirect_uri must not contain a fragment")


async def check_client_registered(draft: UntrustedDraft, ctx: Context) -> None:
    """RFC 6749 §4.1.2.1: an unknown client is never redirected to. Contributes ``client``."""
    client = await ctx.stores.clients.get(draft.params["client_id"])
    if client is None:
        raise InvalidRequest("unknown client_id")
    if client.disabled_at is not None:
        raise InvalidRequest("the client is disabled")
    draft.client = client


async def check_redirect_uri_registered(draft: UntrustedDraft, ctx: Context) -> None:
    """RFC 6749 §3.1.2.3, RFC 9700 §4.1.3: exact match; contributes the URI to answer on."""
    client = earlier(draft.client, "client")
    requested = draft.params.get("redirect_uri")
    if requested is None:
        if len(client.redirect_uris) != 1:
            raise InvalidRequest("redirect_uri is required: the client has several registered")
        draft.redirect_uri = client.redirect_uris[0]
        return
    if not match_redirect_uri(requested, client.redirect_uris):
        raise InvalidRequest("redirect_uri is not registered for this client")
    draft.redirect_uri = requested
    draft.redirect_uri_in_request = True


async def load_client_apis(draft: UntrustedDraft, ctx: Context) -> None:
    """RFC 8707: contributes the APIs the client may use, for ``check_resource`` (never fails)."""
    draft.allowed_apis = await load_apis(earlier(draft.client, "client"), ctx)


UNTRUSTED_CHECKS: tuple[UntrustedCheck, ...] = (
    check_client_id,
    check_request_uri,
    check_redirect_uri_syntax,
    check_client_registered,
    check_redirect_uri_registered,
    load_client_apis,
)


# --- stage 2: errors go back to the client ---------------------------------------------------


def check_response_type_supported(draft: TrustedDraft, policy: Policy) -> None:
    """RFC 6749 §3.1.1; RFC 9700 §2.1.2: a known response type whose grant the server offers.

    Contributes ``response_type`` and its row (``core/response_types.py``), which the next
    checks read: who may use it is the grant's row, how it travels is the response type's.
    """
    raw = draft.params.get("response_type")
    if raw is None:
        raise InvalidRequest("missing parameter response_type")
    spec = response_type_spec(raw)
    if spec is None:
        raise UnsupportedResponseType(f"response_type {raw!r} is not supported")
    if not spec.enabled(policy):
        raise UnsupportedResponseType(f"the {spec.grant_type} grant is disabled on this server")
    draft.response_type = ResponseType(spec.response_type)
    draft.response_spec = spec


def check_response_type_allowed(draft: TrustedDraft, policy: Policy) -> None:
    """RFC 6749 §4.1.2.1 ``unauthorized_client``: the client registered for this flow."""
    spec = earlier(draft.response_spec, "response_type")
    if spec.response_type not in draft.client.response_types:
        raise UnauthorizedClient(f"this client may not use response_type={spec.response_type}")
    if not spec.grant.permits(draft.client):
        raise UnauthorizedClient(f"this client may not use the {spec.grant_type} grant")


def check_response_mode(draft: TrustedDraft, policy: Policy) -> None:
    """OAuth 2.0 Multiple Response Type Encoding Practices §2.1, §3.0: never tokens in a query."""
    spec = earlier(draft.response_spec, "response_type")
    raw = draft.params.get("response_mode")
    if raw is None:
        draft.response_mode = spec.default_mode
        return
    try:
        mode = ResponseMode(raw)
    except ValueError:
        raise InvalidRequest(f"response_mode {raw!r} is not supported") from None
    if mode not in spec.modes:
        raise InvalidRequest(f"response_type {spec.response_type} is never delivered in {raw}")
    draft.response_mode = mode


def check_resource(draft: TrustedDraft, policy: Policy) -> None:
    """RFC 8707 §2: each ``resource`` an absolute URI, no fragment, none twice, and an API the
    client may use (``invalid_target``); none: the client's default API. Contributes ``apis``."""
    requested = resource_values(("resource", v) for v in draft.resource_values)
    draft.apis = select_apis(requested, earlier(draft.allowed_apis, "allowed_apis"))


def check_scope(draft: TrustedDraft, policy: Policy) -> None:
    """RFC 6749 §3.3: the client's default when absent (narrowed to the requested APIs); only
    the client's scopes that are OpenID scopes or scopes of those APIs (``core/resources.py``)."""
    client = draft.client
    allowed = allowed_scopes(earlier(draft.apis, "apis"))
    requested = parse_scope(draft.params.get("scope"))
    draft.scope_requested = requested is not None
    if requested is None:
        scopes = [s for s in client.default_scopes or client.scopes if s in allowed]
        if not scopes:
            raise InvalidScope("no scope requested and the client has no default scope")
        draft.scopes = tuple(scopes)
        return
    unknown = [s for s in requested if s not in client.scopes or s not in allowed]
    if unknown:
        raise InvalidScope(f"scope not allowed for this client: {' '.join(unknown)}")
    draft.scopes = requested


def check_pkce(draft: TrustedDraft, policy: Policy) -> None:
    """RFC 7636 §4.3, RFC 9700 §2.1.1: S256 only; required for public clients and by policy."""
    if earlier(draft.response_type, "response_type") is not ResponseType.CODE:
        return
    client = draft.client
    required = client.is_public or client.require_pkce or policy.require_pkce_for_confidential
    challenge = draft.params.get("code_challenge")
    method = draft.params.get("code_challenge_method")
    pkce.check_challenge(challenge, method, required=required)
    draft.code_challenge = challenge
    draft.code_challenge_method = method


TRUSTED_CHECKS: tuple[TrustedCheck, ...] = (
    check_pushed_required,
    check_response_type_supported,
    check_response_type_allowed,
    check_response_mode,
    check_resource,
    check_scope,
    check_openid_scope,
    check_pkce,
    check_nonce,
    check_prompt,
    check_max_age,
    check_login_hint,
    check_dpop_jkt,
)


# --- the pipeline -----------------------------------------------------------------------------


async def validate(
    pairs: Sequence[tuple[str, str]], ctx: Context, *, pushed: bool = False
) -> ValidatedRequest | Rejection:
    """Run both stages: the validated request, or the rejection and the stage it came from.

    ``pushed``: the request is being pushed to ``/par`` (RFC 9126 §2), not sent to ``/authorize``.
    """
    try:
        # RFC 8707 §2: ``resource`` may repeat; ``check_resource`` reads the values
        values = tuple(v for n, v in pairs if n == "resource")
        others = [(n, v) for n, v in pairs if n != "resource"]
        sent = parse_pairs(others, max_length=ctx.policy.max_param_length)
        untrusted = UntrustedDraft(
            params=sent, pushed=tuple(pairs) if pushed else None, resource_values=values
        )
        for untrusted_check in UNTRUSTED_CHECKS:
            await untrusted_check(untrusted, ctx)
    except OAuthError as error:
        return Rejection(error=error, stage="untrusted")
    params = untrusted.params  # a pushed request's own parameters (RFC 9126 §4)
    draft = TrustedDraft(
        params=params,
        client=earlier(untrusted.client, "client"),
        redirect_uri=earlier(untrusted.redirect_uri, "redirect_uri"),
        redirect_uri_in_request=untrusted.redirect_uri_in_request,
        pushed=untrusted.pushed,
        resource_values=untrusted.resource_values,
        allowed_apis=untrusted.allowed_apis,
    )
    try:
        for check in TRUSTED_CHECKS:
            check(draft, ctx.policy)
    except OAuthError as error:
        target = ErrorTarget(
            redirect_uri=draft.redirect_uri,
            response_mode=_error_mode(params),
            state=params.get("state"),
        )
        return Rejection(error=error, stage="trusted", reply_to=target)
    return ValidatedRequest(
        client=draft.client,
        redirect_uri=draft.redirect_uri,
        redirect_uri_in_request=draft.redirect_uri_in_request,
        response_type=earlier(draft.response_type, "response_type"),
        response_mode=earlier(draft.response_mode, "response_mode"),
        scopes=earlier(draft.scopes, "scopes"),
        scope_requested=draft.scope_requested,
        state=params.get("state"),
        code_challenge=draft.code_challenge,
        code_challenge_method=draft.code_challenge_method,
        nonce=draft.nonce,
        prompt=earlier(draft.prompt, "prompt"),
        max_age=draft.max_age,
        login_hint=draft.login_hint,
        pushed=draft.pushed,
        dpop_jkt=draft.dpop_jkt,
        apis=earlier(draft.apis, "apis"),
    )


def _error_mode(params: Mapping[str, str]) -> ResponseMode:
    """The response mode for an error redirect, read from the raw values because they may be bad.

    A token-like ``response_type`` (``token`` or ``id_token``, alone or in a hybrid) answers in
    the fragment even when it is unsupported, so an error never puts the client's state for an
    implicit request in a query (RFC 6749 §4.2.2.1; OIDC Core §3.2.2.6, §3.3.2.6).
    """
    token_like = bool({"token", "id_token"} & set(params.get("response_type", "").split(" ")))
    if params.get("response_mode") == ResponseMode.FORM_POST.value:
        return ResponseMode.FORM_POST
    return ResponseMode.FRAGMENT if token_like else ResponseMode.QUERY
