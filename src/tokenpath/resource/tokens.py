"""Validating access tokens at a resource server: locally as JWTs (RFC 9068) or by introspection.

Both validators answer the same question — "which token is this, and may it be used here?" —
with an :class:`AccessToken` or an :class:`~tokenpath.core.errors.InvalidToken` value:

* :class:`JwtValidator` checks the signature against the issuer's JWKS (cached, re-fetched on an
  unknown ``kid`` at most once per ``refetch_interval``), the ``at+jwt`` type, ES256 only, and
  ``iss``/``aud``/``exp``/``nbf`` (RFC 9068 §4). It cannot see revocation before ``exp``.
* :class:`IntrospectionValidator` asks the authorization server (RFC 7662) and caches answers for
  a few seconds, so revocation is honoured within that delay; it works for opaque tokens too.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from tokenpath.core.clock import Clock, SystemClock
from tokenpath.core.errors import InvalidToken

__all__ = ["AccessToken", "IntrospectionValidator", "JwksCache", "JwtValidator", "TokenValidator"]

_ALGORITHMS = ["ES256"]
_TYPES = ("at+jwt", "application/at+jwt")


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessToken:
    """A validated access token: who it speaks for, which client holds it, what it allows."""

    subject: str
    client_id: str
    scopes: frozenset[str]
    expires_at: int
    claims: Mapping[str, Any] = field(default_factory=dict)


class TokenValidator(Protocol):
    async def validate(self, token: str) -> AccessToken | InvalidToken: ...


class JwksCache:
    """The issuer's JWK Set; a miss on ``kid`` triggers a re-fetch, rate-limited."""

    def __init__(
        self,
        jwks_uri: str,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Clock | None = None,
        refetch_interval: int = 30,
    ) -> None:
        self.jwks_uri = jwks_uri
        self._http = http or httpx.AsyncClient(timeout=5)
        self._clock = clock or SystemClock()
        self._interval = refetch_interval
        self._keys: KeySet | None = None
        self._fetched_at: int | None = None
        self.fetches = 0

    async def key_set(self, kid: str | None) -> KeySet | None:
        """Keys that may contain ``kid``; None when the JWKS cannot be had at all."""
        if self._keys is not None and (kid is None or self._has(kid)):
            return self._keys
        now = self._clock.now()
        if self._fetched_at is None or now - self._fetched_at >= self._interval:
            await self._fetch(now)
        return self._keys

    def _has(self, kid: str) -> bool:
        return self._keys is not None and any(k.kid == kid for k in self._keys.keys)

    async def _fetch(self, now: int) -> None:
        self._fetched_at = now
        self.fetches += 1
        try:
            response = await self._http.get(self.jwks_uri)
            response.raise_for_status()
            self._keys = KeySet.import_key_set(response.json())
        except (httpx.HTTPError, ValueError, JoseError):
            return  # keep the last good set; the next miss after the interval retries


def _kid(token: str) -> str | None:
    """The unverified ``kid`` of a compact JWS, only to pick a key (the signature decides)."""
    try:
        raw = token.split(".")[0]
        header = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, IndexError):
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else None


class JwtValidator:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks: JwksCache,
        clock: Clock | None = None,
        leeway: int = 30,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.jwks = jwks
        self._clock = clock or SystemClock()
        self._leeway = leeway

    async def validate(self, token: str) -> AccessToken | InvalidToken:
        if token.count(".") != 2:
            return InvalidToken("the access token is not a JWT")
        keys = await self.jwks.key_set(_kid(token))
        if keys is None:
            return InvalidToken("the issuer's keys are unavailable")
        try:
            decoded = jwt.decode(token, keys, algorithms=_ALGORITHMS)
        except (JoseError, ValueError, TypeError) as error:
            return InvalidToken("the access token signature is invalid", detail=repr(error))
        if str(decoded.header.get("typ", "")).lower() not in _TYPES:
            return InvalidToken("the token is not an access token (typ at+jwt)")
        return self._check_claims(dict(decoded.claims))

    def _check_claims(self, claims: dict[str, Any]) -> AccessToken | InvalidToken:
        now = self._clock.now()
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if claims.get("iss") != self.issuer:
            return InvalidToken("the access token has another issuer")
        if self.audience not in audiences:
            return InvalidToken("the access token is not meant for this API")
        if not isinstance(exp, int) or exp + self._leeway <= now:
            return InvalidToken("the access token has expired")
        if isinstance(nbf, int) and nbf - self._leeway > now:
            return InvalidToken("the access token is not valid yet")
        if not isinstance(claims.get("iat"), int):
            return InvalidToken("the access token has no iat")
        subject, client_id = claims.get("sub"), claims.get("client_id")
        if not isinstance(subject, str) or not isinstance(client_id, str):
            return InvalidToken("the access token lacks sub or client_id")
        scope = claims.get("scope", "")
        return AccessToken(
            subject=subject,
            client_id=client_id,
            scopes=frozenset(scope.split()) if isinstance(scope, str) else frozenset(),
            expires_at=exp,
            claims=claims,
        )


class IntrospectionValidator:
    """RFC 7662 client with a short positive/negative cache keyed by the token's SHA-256."""

    def __init__(
        self,
        *,
        introspection_endpoint: str,
        client_id: str,
        client_secret: str,
        audience: str | None = None,
        http: httpx.AsyncClient | None = None,
        clock: Clock | None = None,
        cache_seconds: int = 5,
    ) -> None:
        self.endpoint = introspection_endpoint
        self.audience = audience
        self._auth = httpx.BasicAuth(client_id, client_secret)
        self._http = http or httpx.AsyncClient(timeout=5)
        self._clock = clock or SystemClock()
        self._ttl = cache_seconds
        self._cache: dict[str, tuple[int, AccessToken | InvalidToken]] = {}

    async def validate(self, token: str) -> AccessToken | InvalidToken:
        key = hashlib.sha256(token.encode()).hexdigest()
        now = self._clock.now()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            result = cached[1]
            if isinstance(result, AccessToken) and result.expires_at <= now:
                return InvalidToken("the access token has expired")
            return result
        result = await self._ask(token)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (now + self._ttl, result)
        return result

    async def _ask(self, token: str) -> AccessToken | InvalidToken:
        try:
            response = await self._http.post(
                self.endpoint,
                data={"token": token, "token_type_hint": "access_token"},
                auth=self._auth,
            )
            body = response.json()
        except (httpx.HTTPError, ValueError):
            return InvalidToken("the authorization server could not be asked")
        if response.status_code != 200 or not isinstance(body, dict):
            return InvalidToken("introspection failed")
        if body.get("active") is not True or body.get("token_type") != "Bearer":
            return InvalidToken("the access token is not active")
        aud = body.get("aud")
        if self.audience is not None and self.audience not in (
            aud if isinstance(aud, list) else [aud]
        ):
            return InvalidToken("the access token is not meant for this API")
        scope = body.get("scope", "")
        return AccessToken(
            subject=str(body.get("sub", "")),
            client_id=str(body.get("client_id", "")),
            scopes=frozenset(str(scope).split()),
            expires_at=int(body.get("exp", 0)),
            claims=body,
        )
