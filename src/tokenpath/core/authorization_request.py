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
``resource`` is a ``TrustedCheck`` that reads ``draft.params`` and sets its draft field; a step
that needs a store (the client lookup, RFC 9126 ``request_uri``) is an ``UntrustedCheck``, which
may await. ``tests/core/test_authorize.py`` pins both tables. OIDC ``acr_values`` has no row: no
``acr`` is implemented or advertised, and voluntary ``acr_values`` are best effort (Core §5.5.1.1).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from tokenpath.core import pkce
from tokenpath.core.context import Context
from tokenpath.core.errors import (
    AccountSelectionRequired,
    InvalidRequest,
    InvalidScope,
    OAuthError,
    UnauthorizedClient,
    UnsupportedResponseType,
)
from tokenpath.core.login import MAX_USERNAME
from tokenpath.core.params import parse_pairs, parse_scope
from tokenpath.core.policy import Policy
from tokenpath.core.records import Client, ResponseType
from tokenpath.core.redirect_uris import match_redirect_uri
from tokenpath.core.response_modes import ResponseMode
from tokenpath.core.response_types import ResponseTypeSpec, response_type_spec

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

Stage = Literal["untrusted", "trusted"]
_PROMPTS = frozenset({"none", "consent", "login", "select_account"})
_T = TypeVar("_T")
MAX_NONCE = 512  # it is copied into every ID token of the grant
MAX_AGE_DIGITS = 10  # over 300 years; no unbounded integer parsing


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
    max_age: int | None = None
    login_hint: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorTarget:
    """Where a trusted-stage error goes (RFC 6749 §4.1.2.1, §4.2.2.1)."""

    redirect_uri: str
    response_mode: ResponseMode
    state: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejection:
    """Why a request failed and at which stage; ``reply_to`` is set exactly when trusted."""

    error: OAuthError
    stage: Stage
    reply_to: ErrorTarget | None = None

    def __post_init__(self) -> None:
        if (self.stage == "trusted") != (self.reply_to is not None):
            raise ValueError("only a trusted-stage rejection names where to send the error")


@dataclass(slots=True, kw_only=True)
class UntrustedDraft:
    """Stage 1's working value: the parsed parameters and the client and URI found so far."""

    params: Mapping[str, str]
    client: Client | None = None
    redirect_uri: str | None = None
    redirect_uri_in_request: bool = False


@dataclass(slots=True, kw_only=True)
class TrustedDraft:
    """Stage 2's working value: a trusted client and redirect URI, plus each check's result."""

    params: Mapping[str, str]
    client: Client
    redirect_uri: str
    redirect_uri_in_request: bool
    response_type: ResponseType | None = None
    response_spec: ResponseTypeSpec | None = None
    response_mode: ResponseMode | None = None
    scopes: tuple[str, ...] | None = None
    scope_requested: bool = False
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    nonce: str | None = None
    prompt: frozenset[str] | None = None
    max_age: int | None = None
    login_hint: str | None = None


UntrustedCheck = Callable[[UntrustedDraft, Context], Awaitable[None]]
TrustedCheck = Callable[[TrustedDraft, Policy], None]


def _earlier(value: _T | None, name: str) -> _T:
    """A value an earlier row contributed; its absence is a table-order bug, not bad input."""
    if value is None:
        raise RuntimeError(f"{name} is read before the check that parses it has run")
    return value


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
    draft.client = client


async def check_redirect_uri_registered(draft: UntrustedDraft, ctx: Context) -> None:
    """RFC 6749 §3.1.2.3, RFC 9700 §4.1.3: exact match; contributes the URI to answer on."""
    client = _earlier(draft.client, "client")
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


UNTRUSTED_CHECKS: tuple[UntrustedCheck, ...] = (
    check_client_id,
    check_redirect_uri_syntax,
    check_client_registered,
    check_redirect_uri_registered,
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
    spec = _earlier(draft.response_spec, "response_type")
    if spec.response_type not in draft.client.response_types:
        raise UnauthorizedClient(f"this client may not use response_type={spec.response_type}")
    if not spec.grant.permits(draft.client):
        raise UnauthorizedClient(f"this client may not use the {spec.grant_type} grant")


def check_response_mode(draft: TrustedDraft, policy: Policy) -> None:
    """OAuth 2.0 Multiple Response Type Encoding Practices §2.1, §3.0: never tokens in a query."""
    spec = _earlier(draft.response_spec, "response_type")
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


def check_scope(draft: TrustedDraft, policy: Policy) -> None:
    """RFC 6749 §3.3: the client's default when absent; only scopes it and the server allow."""
    client = draft.client
    requested = parse_scope(draft.params.get("scope"))
    draft.scope_requested = requested is not None
    if requested is None:
        scopes = client.default_scopes or client.scopes
        if not scopes:
            raise InvalidScope("no scope requested and the client has no default scope")
        draft.scopes = tuple(scopes)
        return
    unknown = [s for s in requested if s not in client.scopes or s not in policy.scopes_supported]
    if unknown:
        raise InvalidScope(f"scope not allowed for this client: {' '.join(unknown)}")
    draft.scopes = requested


def check_openid_scope(draft: TrustedDraft, policy: Policy) -> None:
    """OIDC Core §3.1.2.1: an ID token is only ever issued for a request with ``openid``."""
    spec = _earlier(draft.response_spec, "response_type")
    if spec.returns_id_token and "openid" not in _earlier(draft.scopes, "scopes"):
        raise InvalidRequest(f"response_type {spec.response_type} needs the openid scope")


def check_pkce(draft: TrustedDraft, policy: Policy) -> None:
    """RFC 7636 §4.3, RFC 9700 §2.1.1: S256 only; required for public clients and by policy."""
    if _earlier(draft.response_type, "response_type") is not ResponseType.CODE:
        return
    client = draft.client
    required = client.is_public or client.require_pkce or policy.require_pkce_for_confidential
    challenge = draft.params.get("code_challenge")
    method = draft.params.get("code_challenge_method")
    pkce.check_challenge(challenge, method, required=required)
    draft.code_challenge = challenge
    draft.code_challenge_method = method


def check_nonce(draft: TrustedDraft, policy: Policy) -> None:
    """OIDC Core §3.2.2.1: ``nonce`` is REQUIRED when the authorization endpoint returns an ID
    token (it binds the token to the client's session against replay); bounded in length."""
    spec = _earlier(draft.response_spec, "response_type")
    nonce = draft.params.get("nonce") or None
    if nonce is None and spec.returns_id_token:
        raise InvalidRequest(f"nonce is required for response_type {spec.response_type}")
    if nonce is not None and len(nonce) > MAX_NONCE:
        raise InvalidRequest(f"nonce is longer than {MAX_NONCE} characters")
    draft.nonce = nonce


def check_prompt(draft: TrustedDraft, policy: Policy) -> None:
    """OIDC Core §3.1.2.1: ``none`` stands alone; ``select_account`` without ``login`` is
    ``account_selection_required`` (§3.1.2.6: we cannot show an account chooser); with ``login``
    the fresh sign-in is the account choice, so it is dropped."""
    raw = draft.params.get("prompt")
    prompt = frozenset(raw.split(" ")) if raw else frozenset()
    if not prompt <= _PROMPTS:
        raise InvalidRequest("unknown prompt value")
    if "none" in prompt and len(prompt) > 1:
        raise InvalidRequest("prompt=none cannot be combined with other values")
    if "select_account" in prompt:
        if "login" not in prompt:
            raise AccountSelectionRequired("this server has no account chooser")
        prompt -= {"select_account"}
    draft.prompt = prompt


def check_max_age(draft: TrustedDraft, policy: Policy) -> None:
    """OIDC Core §3.1.2.1: ``max_age`` is a non-negative integer number of seconds."""
    raw = draft.params.get("max_age")
    if raw is not None and not (raw.isascii() and raw.isdigit() and len(raw) <= MAX_AGE_DIGITS):
        raise InvalidRequest("max_age must be a non-negative integer (seconds)")
    draft.max_age = None if raw is None else int(raw)


def check_login_hint(draft: TrustedDraft, policy: Policy) -> None:
    """OIDC Core §3.1.2.1: ``login_hint`` prefills the sign-in form; no longer than a user name."""
    hint = draft.params.get("login_hint")
    if hint is not None and len(hint) > MAX_USERNAME:
        raise InvalidRequest(f"login_hint is longer than {MAX_USERNAME} characters")
    draft.login_hint = hint or None


TRUSTED_CHECKS: tuple[TrustedCheck, ...] = (
    check_response_type_supported,
    check_response_type_allowed,
    check_response_mode,
    check_scope,
    check_openid_scope,
    check_pkce,
    check_nonce,
    check_prompt,
    check_max_age,
    check_login_hint,
)


# --- the pipeline -----------------------------------------------------------------------------


async def validate(pairs: Sequence[tuple[str, str]], ctx: Context) -> ValidatedRequest | Rejection:
    """Run both stages: the validated request, or the rejection and the stage it came from."""
    try:
        params = parse_pairs(pairs, max_length=ctx.policy.max_param_length)
        untrusted = UntrustedDraft(params=params)
        for untrusted_check in UNTRUSTED_CHECKS:
            await untrusted_check(untrusted, ctx)
    except OAuthError as error:
        return Rejection(error=error, stage="untrusted")
    draft = TrustedDraft(
        params=params,
        client=_earlier(untrusted.client, "client"),
        redirect_uri=_earlier(untrusted.redirect_uri, "redirect_uri"),
        redirect_uri_in_request=untrusted.redirect_uri_in_request,
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
        response_type=_earlier(draft.response_type, "response_type"),
        response_mode=_earlier(draft.response_mode, "response_mode"),
        scopes=_earlier(draft.scopes, "scopes"),
        scope_requested=draft.scope_requested,
        state=params.get("state"),
        code_challenge=draft.code_challenge,
        code_challenge_method=draft.code_challenge_method,
        nonce=draft.nonce,
        prompt=_earlier(draft.prompt, "prompt"),
        max_age=draft.max_age,
        login_hint=draft.login_hint,
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
