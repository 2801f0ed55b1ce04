"""Claims an operator adds to access tokens: static ones per API, and a hook called at issue.

Why two ways: most APIs need a fixed fact in every token (a tenant, a service name), which the
API record carries (``Api.claims``, JSON set by ``tokenpath api add --claim``); some need a value
computed per token (the user's roles from another system), which a :class:`ClaimsHook` passed to
``create_app(access_token_claims=...)`` or named by ``TOKENPATH_ACCESS_TOKEN_CLAIMS`` returns.

Rules:

* The reserved claims (:data:`RESERVED_CLAIMS`: what RFC 9068 §2.2, RFC 9449 ``cnf`` and OIDC
  authentication facts say about the token) are never overwritten: the server sets them, and a
  static claim or hook value under one of those names is refused at registration or dropped at
  issue (and logged), so an API can always trust them.
* Static claims are merged first, the hook's on top; values must be JSON (the token is JSON).
* The hook runs for JWT access tokens only; an opaque token's introspection answer carries the
  API's static claims (no hook call at introspection: it would run per request).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from tokenpath.core.errors import InvalidRequest
from tokenpath.core.records import Api, GrantType

__all__ = [
    "MAX_STATIC_CLAIMS_JSON",
    "RESERVED_CLAIMS",
    "ClaimsHook",
    "TokenFacts",
    "merge_claims",
    "static_claims",
    "validate_static_claims",
]

log = logging.getLogger("tokenpath")

RESERVED_CLAIMS: frozenset[str] = frozenset(
    {
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "nbf",
        "jti",
        "client_id",
        "scope",
        "grant_id",
        "gty",
        "cnf",
        "auth_time",
        "acr",
        "amr",
    }
)
"""Claims only the server sets (RFC 9068 §2.2, RFC 7800 ``cnf``, OIDC Core §2)."""

MAX_STATIC_CLAIMS_JSON = 4096


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenFacts:
    """What a :class:`ClaimsHook` is told about the token being minted."""

    api: Api | None
    """The API the token is for; None for a token only for ``/userinfo``."""
    client_id: str
    subject: str
    """The user id, or the client id for the client credentials grant."""
    scope: tuple[str, ...]
    grant_type: GrantType


class ClaimsHook(Protocol):
    """Extra claims for one access token; reserved names in the answer are dropped."""

    def __call__(self, facts: TokenFacts) -> Mapping[str, object]: ...


def validate_static_claims(raw: Mapping[str, object]) -> str:
    """The canonical JSON text of an API's static claims, or ``invalid_request``."""
    reserved = sorted(set(raw) & RESERVED_CLAIMS)
    if reserved:
        raise InvalidRequest(f"reserved claims cannot be set: {' '.join(reserved)}")
    if any(not name or len(name) > 100 for name in raw):
        raise InvalidRequest("claim names must be 1-100 characters")
    try:
        text = json.dumps(dict(raw), sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        raise InvalidRequest("claim values must be JSON") from None
    if len(text) > MAX_STATIC_CLAIMS_JSON:
        raise InvalidRequest(f"static claims must be at most {MAX_STATIC_CLAIMS_JSON} characters")
    return text


def static_claims(api: Api | None) -> dict[str, object]:
    """The API's stored static claims (validated when stored)."""
    if api is None:
        return {}
    parsed = json.loads(api.claims)
    return dict(parsed) if isinstance(parsed, dict) else {}


def merge_claims(
    claims: dict[str, object], facts: TokenFacts, hook: ClaimsHook | None
) -> dict[str, object]:
    """``claims`` (the server's) plus the API's static claims and the hook's, none reserved."""
    extra = static_claims(facts.api)
    if hook is not None:
        extra.update(hook(facts))
    dropped = sorted(name for name in extra if name in RESERVED_CLAIMS or name in claims)
    if dropped:
        log.warning("access-token claims dropped (reserved): %s", " ".join(dropped))
    return {**{k: v for k, v in extra.items() if k not in dropped}, **claims}
