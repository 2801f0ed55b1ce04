"""Validating JWT access tokens locally, as RFC 9068 §4 asks a resource server to.

A token is accepted only when every check passes, in this order (cheap and key-free first, so
a forged token never costs a JWKS fetch unless its header already looks right):

1. a compact JWS whose header has ``typ`` ``at+jwt`` or ``application/at+jwt`` (§4; compared
   case-insensitively, RFC 7515 §4.1.9), so an ID token or any other JWT the issuer signed
   cannot be replayed as an access token;
2. ``alg`` is ES256 — an allow-list of one, never ``none`` nor an HMAC that could be keyed with
   the public key (RFC 8725 §3.1, §3.2);
3. the signature verifies with the issuer's key named by ``kid`` (:mod:`.jwks`);
4. ``iss`` equals the configured issuer exactly, ``aud`` contains our audience, ``exp`` is in the
   future and ``nbf``/``iat`` not (all within ``leeway`` seconds of clock skew), and ``sub``,
   ``client_id`` and ``scope`` are present (RFC 9068 §2.2).

5. when a ``revocations`` list is given (a :class:`~tokenpath.resource.revocation.RevocationFeed`),
   neither the token's ``jti`` nor its ``grant_id`` is on it — checked on every call, a cache
   hit included, so a revocation the feed has seen takes effect at once, without a call to the
   authorization server per request. Without one, a revoked token stays valid here until ``exp``.

The rules are written once (:class:`JwtRules`); :class:`JwtValidator` (ASGI, ``await``) and
:class:`SyncJwtValidator` (WSGI: Flask, Django) are the two I/O shells around them, differing
only in how they ask the :class:`~tokenpath.resource.jwks.JwksCache` for a key.

A token that passed is remembered for ``cache_seconds`` (never past its ``exp``), so a client
calling the API repeatedly with one token pays for the ES256 verification once rather than on
every call (verification is most of the cost of a protected request). A remembered token
outlives a retired signing key by at most ``cache_seconds``; 0 turns the cache off.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from joserfc import jwt
from joserfc.errors import ClaimError, ExpiredTokenError, JoseError, MissingClaimError
from joserfc.jwk import ECKey

from tokenpath.core.clock import Clock, SystemClock
from tokenpath.core.errors import InvalidToken
from tokenpath.core.ttl import TtlCache
from tokenpath.resource.jwks import JwksCache

__all__ = [
    "ACCESS_TOKEN_TYPES",
    "AccessToken",
    "JwtRules",
    "JwtValidator",
    "RevocationList",
    "SyncJwtValidator",
    "SyncTokenValidator",
    "TokenValidator",
]

logger = logging.getLogger("tokenpath.resource")

ALGORITHMS = ["ES256"]
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})

_CLAIM_PROBLEMS = {
    "iss": "the access token was issued by another issuer",
    "aud": "the access token is not meant for this API",
    "nbf": "the access token is not valid yet",
    "iat": "the access token was issued in the future",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessToken:
    """A validated access token: who it speaks for, which client holds it, what it allows.

    ``token`` is the raw credential, kept so an API can pass it on (token exchange, a call to
    introspection); it is left out of ``repr`` so a logged ``AccessToken`` leaks nothing usable.
    """

    subject: str
    client_id: str
    scopes: frozenset[str]
    expires_at: int
    claims: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    token: str = field(repr=False, compare=False)

    def allows(self, *needed: str) -> bool:
        """Whether every scope in ``needed`` was granted."""
        return set(needed) <= self.scopes


class TokenValidator(Protocol):
    """What the ASGI adapters need: a token in, an :class:`AccessToken` or the reason out."""

    async def validate(self, token: str) -> AccessToken | InvalidToken: ...


class SyncTokenValidator(Protocol):
    """What the WSGI adapters (Flask, Django) need: :class:`TokenValidator`, without ``await``."""

    def validate(self, token: str) -> AccessToken | InvalidToken: ...


class RevocationList(Protocol):
    """Revoked token ids and grant ids, consulted locally on every request."""

    def is_revoked(self, claims: Mapping[str, Any]) -> bool: ...


@dataclass(frozen=True, slots=True)
class _KeyNeeded:
    """The header passed the key-free checks; the signature needs the key named ``kid``."""

    kid: str | None


def _header(token: str) -> Mapping[str, Any]:
    """The unverified JOSE header of a compact JWS: only to pick the key and pre-filter."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise ValueError("not a compact JWS")
    raw = parts[0]
    header = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    if not isinstance(header, dict):
        raise ValueError("the JOSE header is not an object")
    return header


class JwtRules:
    """Checks RFC 9068 access tokens of one issuer for one audience (this API), I/O aside.

    ``issuer`` and ``audience`` are required and always checked: a validator that skipped
    ``aud`` would accept every other API's tokens (RFC 9068 §4, RFC 9700 §2.3).
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks_uri: str | None = None,
        jwks: JwksCache | None = None,
        revocations: RevocationList | None = None,
        clock: Clock | None = None,
        leeway: int = 30,
        refetch_interval: int = 30,
        cache_seconds: int = 30,
        cache_size: int = 10_000,
    ) -> None:
        """``jwks_uri`` (or a ready ``jwks`` cache); with neither, it is discovered (RFC 8414)."""
        if not issuer or not audience:
            raise ValueError("a validator needs the issuer and this API's audience")
        if jwks is not None and jwks_uri is not None:
            raise ValueError("give jwks_uri or jwks, not both")
        self.issuer = issuer
        self.audience = audience
        self.revocations = revocations
        self.jwks = jwks or JwksCache(
            jwks_uri, issuer=issuer, clock=clock, refetch_interval=refetch_interval
        )
        self._clock = clock or SystemClock()
        self._leeway = leeway
        self._cache_seconds = cache_seconds
        self._validated: TtlCache[str, AccessToken] = TtlCache(cache_size)
        # TtlCache is not thread-safe and WSGI servers call one validator from many threads; the
        # lock is held for a dictionary operation only (never across I/O or an await)
        self._cache_lock = threading.Lock()

    def _begin(self, token: str) -> AccessToken | InvalidToken | _KeyNeeded:
        """A remembered token, a refusal that needs no key, or the key to fetch."""
        with self._cache_lock:
            remembered = self._validated.get(token, self._clock.now())
        if remembered is not None:
            return remembered
        try:
            header = _header(token)
        except (ValueError, binascii.Error):
            return InvalidToken("the access token is not a signed JWT")
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES:
            return InvalidToken("the token is not an access token (typ must be at+jwt)")
        if header.get("alg") not in ALGORITHMS:
            return InvalidToken("the access token must be signed with ES256")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            return InvalidToken("the access token names its key wrongly (kid)")
        return _KeyNeeded(kid)

    def _verify(self, token: str, key: ECKey | None) -> AccessToken | InvalidToken:
        """Signature and claims; a valid token is remembered (never past its ``exp``)."""
        if key is None:
            if not self.jwks.loaded:
                return InvalidToken("the issuer's signing keys are unavailable")
            return InvalidToken("the access token was signed by an unknown key")
        try:
            decoded = jwt.decode(token, key, algorithms=ALGORITHMS)
        except (JoseError, ValueError, TypeError) as error:
            return InvalidToken(
                "the access token signature is invalid", detail=type(error).__name__
            )
        result = self._check_claims(dict(decoded.claims), token)
        if isinstance(result, AccessToken) and self._cache_seconds:
            until = min(self._clock.now() + self._cache_seconds, result.expires_at)
            with self._cache_lock:
                self._validated.put(token, result, until=until)
        return result

    def _end(self, result: AccessToken | InvalidToken) -> AccessToken | InvalidToken:
        """The revocation check (every call, cache hits too), then the log line for a refusal."""
        if (
            isinstance(result, AccessToken)
            and self.revocations is not None
            and self.revocations.is_revoked(result.claims)
        ):
            result = InvalidToken("the access token has been revoked")
        if isinstance(result, InvalidToken):
            # the reason only: a token (or any part of it) never reaches a log
            logger.info("access token rejected: %s [%s]", result.description, result.detail or "-")
        return result

    def _check_claims(self, claims: dict[str, Any], token: str) -> AccessToken | InvalidToken:
        registry = jwt.JWTClaimsRegistry(
            now=self._clock.now,
            leeway=self._leeway,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.audience},
            exp={"essential": True},
            iat={"essential": True},
            sub={"essential": True},
            client_id={"essential": True},
            scope={"essential": True, "allow_blank": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            return InvalidToken("the access token has expired")
        except MissingClaimError as error:
            return InvalidToken(f"the access token lacks a claim: {error.claim}")
        except ClaimError as error:
            problem = _CLAIM_PROBLEMS.get(error.claim, f"the {error.claim} claim is invalid")
            return InvalidToken(problem)
        subject, client_id, scope = claims["sub"], claims["client_id"], claims["scope"]
        if not isinstance(client_id, str) or not client_id or not isinstance(scope, str):
            return InvalidToken("the access token has a malformed client_id or scope")
        return AccessToken(
            subject=subject,
            client_id=client_id,
            scopes=frozenset(scope.split()),
            expires_at=int(claims["exp"]),
            claims=MappingProxyType(claims),
            token=token,
        )


class JwtValidator(JwtRules):
    """:class:`JwtRules` for ASGI APIs (Starlette, FastAPI): a :class:`TokenValidator`."""

    async def validate(self, token: str) -> AccessToken | InvalidToken:
        step = self._begin(token)
        if isinstance(step, _KeyNeeded):
            step = self._verify(token, await self.jwks.get(step.kid))
        return self._end(step)


class SyncJwtValidator(JwtRules):
    """:class:`JwtRules` for WSGI APIs (Flask, Django): a :class:`SyncTokenValidator`.

    Safe to share between threads; a key fetch blocks only the threads that need the key.
    """

    def validate(self, token: str) -> AccessToken | InvalidToken:
        step = self._begin(token)
        if isinstance(step, _KeyNeeded):
            step = self._verify(token, self.jwks.get_sync(step.kid))
        return self._end(step)
