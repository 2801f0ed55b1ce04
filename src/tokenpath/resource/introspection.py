"""Validating access tokens by asking the authorization server (RFC 7662 token introspection).

Unlike local JWT validation this sees revocation, and works for opaque tokens too, at the cost
of one HTTP call per token. Answers are cached for ``cache_seconds`` (keyed by the token's
SHA-256, never the token itself), so a revocation takes effect within that delay.

The resource server authenticates with its own credentials (the ``client_id`` and
``client_secret`` that ``tokenpath api add`` prints) by ``client_secret_basic``, form-urlencoded
before base64 as RFC 6749 §2.3.1 requires. ``issuer`` and ``audience`` have no default: an
active token is accepted only if the answer's ``iss`` is the issuer and its ``aud`` names this
API (RFC 7662 §4 leaves the audience check to the resource server). Passing None turns a check
off, visibly in the code that does it.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import quote_plus

import httpx

from tokenpath.core.clock import Clock, SystemClock
from tokenpath.core.errors import InvalidToken
from tokenpath.resource.validation import AccessToken

__all__ = ["IntrospectionValidator"]

logger = logging.getLogger("tokenpath.resource")

MAX_CACHED = 10_000


def _numeric_date(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if math.isfinite(value) else None


class IntrospectionValidator:
    """A :class:`~tokenpath.resource.validation.TokenValidator` backed by RFC 7662."""

    def __init__(
        self,
        *,
        introspection_endpoint: str,
        client_id: str,
        client_secret: str,
        audience: str | None,
        issuer: str | None,
        http: httpx.AsyncClient | None = None,
        clock: Clock | None = None,
        cache_seconds: int = 5,
        timeout: float = 5.0,
    ) -> None:
        self.endpoint = introspection_endpoint
        self.audience = audience
        self.issuer = issuer
        self._auth = httpx.BasicAuth(quote_plus(client_id), quote_plus(client_secret))
        self._http = http
        self._timeout = timeout
        self._clock = clock or SystemClock()
        self._ttl = cache_seconds
        self._cache: dict[str, tuple[int, AccessToken | InvalidToken]] = {}

    async def validate(self, token: str) -> AccessToken | InvalidToken:
        key = hashlib.sha256(token.encode("utf-8")).hexdigest()
        now = self._clock.now()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            result = cached[1]
        else:
            result = await self._ask(token)
            if len(self._cache) >= MAX_CACHED:
                self._cache.clear()
            self._cache[key] = (now + self._ttl, result)
        if isinstance(result, AccessToken) and result.expires_at <= now:
            result = InvalidToken("the access token has expired")
        if isinstance(result, InvalidToken):
            logger.info("access token rejected: %s [%s]", result.description, result.detail or "-")
        return result

    async def _ask(self, token: str) -> AccessToken | InvalidToken:
        data = {"token": token, "token_type_hint": "access_token"}
        try:
            if self._http is not None:
                response = await self._http.post(self.endpoint, data=data, auth=self._auth)
            else:
                async with httpx.AsyncClient(timeout=self._timeout) as client:
                    response = await client.post(self.endpoint, data=data, auth=self._auth)
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            return InvalidToken("the authorization server could not be asked", detail=repr(error))
        if response.status_code != 200 or not isinstance(body, dict):
            return InvalidToken("introspection failed", detail=f"HTTP {response.status_code}")
        return self._read(body, token)

    def _read(self, body: Mapping[str, Any], token: str) -> AccessToken | InvalidToken:
        if body.get("active") is not True:
            return InvalidToken("the access token is not active")
        if str(body.get("token_type", "Bearer")).lower() != "bearer":
            return InvalidToken("the token is not an access token")
        if self.issuer is not None and body.get("iss") != self.issuer:
            return InvalidToken("the access token was issued by another issuer")
        aud = body.get("aud")
        if self.audience is not None and self.audience not in (
            aud if isinstance(aud, list) else [aud]
        ):
            return InvalidToken("the access token is not meant for this API")
        subject, client_id = body.get("sub"), body.get("client_id")
        scope, exp = body.get("scope", ""), _numeric_date(body.get("exp"))
        if not isinstance(subject, str) or not isinstance(client_id, str) or exp is None:
            return InvalidToken("the introspection answer lacks sub, client_id or exp")
        return AccessToken(
            subject=subject,
            client_id=client_id,
            scopes=frozenset(scope.split()) if isinstance(scope, str) else frozenset(),
            expires_at=exp,
            claims=MappingProxyType(dict(body)),
            token=token,
        )
