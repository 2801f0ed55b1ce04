"""JWT validation against a real JWKS served on loopback (RFC 9068 §4, RFC 6750 §3)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.servers import serve_asgi
from tokenpath.core.clock import FixedClock
from tokenpath.resource import AccessToken, JwksCache, JwtValidator

pytestmark = pytest.mark.anyio
ISSUER = "https://as.example"
AUDIENCE = "https://api.example"


class Issuer:
    """A minimal key holder whose JWKS a real HTTP server publishes."""

    def __init__(self) -> None:
        self.keys = [self.new_key("k1")]
        self.requests = 0

    @staticmethod
    def new_key(kid: str) -> ECKey:
        return ECKey.generate_key("P-256", parameters={"kid": kid}, private=True)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.as_dict(private=False) for k in self.keys]}

    def sign(
        self, key: ECKey | None = None, header: dict[str, Any] | None = None, **claims: Any
    ) -> str:
        key = key or self.keys[0]
        body = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "alice",
            "client_id": "app",
            "scope": "notes:read",
            "iat": 1_700_000_000,
            "exp": 1_700_000_600,
            "jti": "j",
        }
        body.update(claims)
        head = {"alg": "ES256", "typ": "at+jwt", "kid": key.kid, **(header or {})}
        return jwt.encode(head, {k: v for k, v in body.items() if v is not None}, key)


@pytest.fixture(scope="module")
def issuer_server() -> Iterator[tuple[Issuer, str]]:
    issuer = Issuer()

    async def jwks(request: Request) -> JSONResponse:
        issuer.requests += 1
        return JSONResponse(issuer.jwks())

    with serve_asgi(Starlette(routes=[Route("/jwks", jwks)])) as url:
        yield issuer, f"{url}/jwks"


@pytest.fixture
def setup(issuer_server: tuple[Issuer, str]) -> tuple[Issuer, JwtValidator, FixedClock]:
    issuer, jwks_uri = issuer_server
    issuer.keys = [Issuer.new_key("k1")]
    clock = FixedClock(1_700_000_100)
    validator = JwtValidator(
        issuer=ISSUER,
        audience=AUDIENCE,
        clock=clock,
        jwks=JwksCache(jwks_uri, clock=clock, refetch_interval=30),
    )
    return issuer, validator, clock


async def test_valid_token(setup: tuple[Issuer, JwtValidator, FixedClock]) -> None:
    issuer, validator, _ = setup
    result = await validator.validate(issuer.sign())
    assert isinstance(result, AccessToken)
    assert (
        result.subject == "alice" and result.scopes == {"notes:read"} and result.client_id == "app"
    )


@pytest.mark.parametrize(
    ("claims", "header", "reason"),
    [
        ({"exp": 1_700_000_000}, {}, "expired"),
        ({"iss": "https://evil.example"}, {}, "issuer"),
        ({"aud": "https://other-api.example"}, {}, "not meant"),
        ({}, {"typ": "JWT"}, "typ"),
        ({"nbf": 1_700_001_000}, {}, "not valid yet"),
        ({"sub": None}, {}, "sub"),
        ({"iat": None}, {}, "iat"),
    ],
)
async def test_claim_checks(
    setup: tuple[Issuer, JwtValidator, FixedClock],
    claims: dict[str, Any],
    header: dict[str, Any],
    reason: str,
) -> None:
    issuer, validator, _ = setup
    result = await validator.validate(issuer.sign(header=header, **claims))
    assert not isinstance(result, AccessToken) and result.error == "invalid_token"
    assert reason in result.description


async def test_tampered_and_forged_tokens(setup: tuple[Issuer, JwtValidator, FixedClock]) -> None:
    issuer, validator, _ = setup
    good = issuer.sign()
    head, body, sig = good.split(".")
    forged_body = jwt.encode({"alg": "ES256"}, {"sub": "mallory"}, issuer.keys[0]).split(".")[1]
    assert not isinstance(await validator.validate(f"{head}.{forged_body}.{sig}"), AccessToken)
    # alg=none and HS256 keyed with the public key (algorithm confusion)
    none_token = f"{jwt.encode({'alg': 'ES256'}, {}, issuer.keys[0]).split('.')[0]}.{body}."
    assert not isinstance(await validator.validate(none_token), AccessToken)
    public = json.dumps(issuer.keys[0].as_dict(private=False)).encode()
    hs = jwt.encode(
        {"alg": "HS256", "typ": "at+jwt", "kid": "k1"}, {"sub": "x"}, OctKey.import_key(public)
    )
    assert not isinstance(await validator.validate(hs), AccessToken)
    rsa = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
    rs = jwt.encode({"alg": "RS256", "typ": "at+jwt", "kid": "k1"}, {"sub": "x"}, rsa)
    assert not isinstance(await validator.validate(rs), AccessToken)
    assert not isinstance(await validator.validate("not-a-jwt"), AccessToken)


async def test_rotation_and_rate_limited_refetch(
    setup: tuple[Issuer, JwtValidator, FixedClock],
) -> None:
    issuer, validator, clock = setup
    assert isinstance(await validator.validate(issuer.sign()), AccessToken)
    fetched = validator.jwks.fetches
    # a new key appears at the issuer: an unknown kid triggers one re-fetch, then it validates
    clock.advance(30)
    new = Issuer.new_key("k2")
    issuer.keys.append(new)
    assert isinstance(await validator.validate(issuer.sign(key=new)), AccessToken)
    assert validator.jwks.fetches == fetched + 1
    # tokens with unknown kids cannot make it fetch again inside the interval
    stranger = Issuer.new_key("k3")
    for _ in range(20):
        assert not isinstance(await validator.validate(issuer.sign(key=stranger)), AccessToken)
    assert validator.jwks.fetches == fetched + 1
    # the old key is retired at the issuer: after the interval its tokens fail
    issuer.keys = [new]
    clock.advance(31)
    assert not isinstance(
        await validator.validate(issuer.sign(key=Issuer.new_key("k4"))), AccessToken
    )
    assert not isinstance(await validator.validate(issuer.sign(key=stranger)), AccessToken)


async def test_unreachable_jwks_is_invalid_token_not_an_exception() -> None:
    validator = JwtValidator(
        issuer=ISSUER,
        audience=AUDIENCE,
        jwks=JwksCache("http://127.0.0.1:9/jwks", http=httpx.AsyncClient(timeout=1)),
    )
    result = await validator.validate(Issuer().sign())
    assert not isinstance(result, AccessToken) and result.error == "invalid_token"
