"""The values an authorization request passes through: the two stages' drafts, the validated
request, and the staged rejection (see ``core/authorization_request.py`` for the pipeline).

They live apart from the check tables so that checks of every concern (OAuth in
``authorization_request.py``, OpenID Connect in ``openid_request.py``, RFC 8707 or RFC 9449
later) can be written against them without importing each other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

from tokenpath.core.context import Context
from tokenpath.core.errors import OAuthError
from tokenpath.core.policy import Policy
from tokenpath.core.records import Api, Client, ResponseType
from tokenpath.core.response_modes import ResponseMode
from tokenpath.core.response_types import ResponseTypeSpec

__all__ = [
    "ErrorTarget",
    "Rejection",
    "Stage",
    "TrustedCheck",
    "TrustedDraft",
    "UntrustedCheck",
    "UntrustedDraft",
    "ValidatedRequest",
    "earlier",
]

Stage = Literal["untrusted", "trusted"]
_T = TypeVar("_T")


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
    pushed: tuple[tuple[str, str], ...] | None = None
    """The parameters of a pushed request (RFC 9126), as pushed; None for a plain request."""
    dpop_jkt: str | None = None
    """RFC 9449 §10: the DPoP key the code's token request must prove."""
    apis: tuple[Api, ...] = ()
    """The APIs the request is for (RFC 8707); empty: tokens for ``/userinfo`` only."""


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
    pushed: tuple[tuple[str, str], ...] | None = None
    """Set when ``params`` came from a pushed request (RFC 9126 §4) or are being pushed."""
    allowed_apis: Mapping[str, Api] | None = None
    resource_values: tuple[str, ...] = ()
    """The raw ``resource`` values, read apart from ``params`` (RFC 8707 §2 allows several);
    a pushed request's own replace them (``check_request_uri``)."""


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
    pushed: tuple[tuple[str, str], ...] | None = None
    dpop_jkt: str | None = None
    resource_values: tuple[str, ...] = ()
    """The raw ``resource`` values, read apart from ``params`` (RFC 8707 §2 allows several)."""
    allowed_apis: Mapping[str, Api] | None = None
    """The registered APIs the client may use, its default first (loaded in stage 1)."""
    apis: tuple[Api, ...] | None = None


UntrustedCheck = Callable[[UntrustedDraft, Context], Awaitable[None]]
TrustedCheck = Callable[[TrustedDraft, Policy], None]


def earlier(value: _T | None, name: str) -> _T:
    """A value an earlier row contributed; its absence is a table-order bug, not bad input."""
    if value is None:
        raise RuntimeError(f"{name} is read before the check that parses it has run")
    return value
