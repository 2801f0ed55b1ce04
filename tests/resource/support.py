"""A stand-in issuer for resource tests: its own ES256 keys, tokens it signs, and a real HTTP
server (uvicorn on loopback) publishing its JWKS and metadata, counting every request."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from joserfc.jwk import ECKey
from joserfc.jws import JWSRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tokenpath.core.errors import InvalidToken
from tokenpath.resource import AccessToken, JwtValidator, SyncJwtValidator

NOW = 1_700_000_100
AUDIENCE = "https://api.example"


def new_key(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid}, private=True)


def b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def sign_raw(header: dict[str, Any], claims: dict[str, Any], key: ECKey) -> str:
    """An ES256 JWS over exactly this header, even one a JOSE library would refuse to write."""
    signing_input = f"{b64(header)}.{b64(claims)}"
    signature = JWSRegistry.algorithms["ES256"].sign(signing_input.encode(), key)
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def sign_hs256(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """An HMAC-signed JWS, by hand: JOSE libraries rightly refuse public keys as HMAC secrets."""
    signing_input = f"{b64(header)}.{b64(claims)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


class TokenIssuer:
    """Signs access tokens the way tokenpath does (RFC 9068) and serves its keys over HTTP."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.hits: Counter[str] = Counter()
        self.documents: dict[str, Callable[[], Any]] = {}
        self.reset()

    def reset(self) -> None:
        self.keys = [new_key("k1")]
        self.extra_jwks: list[dict[str, Any]] = []
        self.hits.clear()
        self.documents.clear()
        self.documents["/jwks"] = self.jwks
        self.documents["/.well-known/oauth-authorization-server"] = lambda: {
            "issuer": self.url,
            "jwks_uri": f"{self.url}/jwks",
        }

    @property
    def jwks_uri(self) -> str:
        return f"{self.url}/jwks"

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.as_dict(private=False) for k in self.keys] + self.extra_jwks}

    def claims(self, **overrides: Any) -> dict[str, Any]:
        body = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": "alice",
            "client_id": "notes-app",
            "scope": "notes:read",
            "iat": NOW - 60,
            "exp": NOW + 540,
            "jti": "jti-1",
            "gty": "authorization_code",
        }
        body.update(overrides)
        return {k: v for k, v in body.items() if v is not None}

    def sign(
        self, key: ECKey | None = None, header: dict[str, Any] | None = None, **claims: Any
    ) -> str:
        key = key or self.keys[0]
        head = {"alg": "ES256", "typ": "at+jwt", "kid": key.kid, **(header or {})}
        head = {k: v for k, v in head.items() if v is not None}
        return sign_raw(head, self.claims(**claims), key)

    def app(self) -> Starlette:
        async def document(request: Request) -> Response:
            path = request.url.path
            self.hits[path] += 1
            make = self.documents.get(path)
            if make is None:
                return JSONResponse({"error": "not found"}, status_code=404)
            value = make()
            return value if isinstance(value, Response) else JSONResponse(value)

        return Starlette(routes=[Route("/{path:path}", document)])


class SyncShell:
    """A :class:`~tokenpath.resource.SyncJwtValidator` behind ``await``, so every validation
    test runs against both shells of the one set of rules."""

    def __init__(self, validator: SyncJwtValidator) -> None:
        self.sync = validator
        self.jwks = validator.jwks

    async def validate(self, token: str) -> AccessToken | InvalidToken:
        return self.sync.validate(token)


def both_shells(validator: JwtValidator, shell: str) -> JwtValidator:
    """``validator`` itself, or a sync validator with the same configuration behind ``await``."""
    if shell == "async":
        return validator
    sync = SyncJwtValidator(
        issuer=validator.issuer,
        audience=validator.audience,
        jwks=validator.jwks,
        clock=validator._clock,
        leeway=validator._leeway,
        cache_seconds=validator._cache_seconds,
    )
    return SyncShell(sync)  # type: ignore[return-value]
