"""JWT access-token validation (RFC 9068 §4) against keys served by a real loopback server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from tests.resource.support import AUDIENCE, NOW, TokenIssuer, b64, both_shells, new_key, sign_hs256
from tokenpath.core.clock import FixedClock
from tokenpath.core.errors import InvalidToken
from tokenpath.resource import AccessToken, JwksCache, JwtValidator

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["async", "sync"])
def validator(
    issuer: TokenIssuer, clock: FixedClock, request: pytest.FixtureRequest
) -> JwtValidator:
    """Every test runs with both shells (JwtValidator, SyncJwtValidator): one set of rules."""
    validator = JwtValidator(
        issuer=issuer.url, audience=AUDIENCE, jwks_uri=issuer.jwks_uri, clock=clock
    )
    return both_shells(validator, request.param)


async def rejected(validator: JwtValidator, token: str) -> str:
    """The description of the rejection; fails the test if the token was accepted."""
    result = await validator.validate(token)
    assert isinstance(result, InvalidToken), result
    assert result.error == "invalid_token" and result.status == 401
    return result.description


async def test_a_valid_token_gives_who_and_what(
    issuer: TokenIssuer, validator: JwtValidator
) -> None:
    token = issuer.sign(scope="notes:read notes:write")
    result = await validator.validate(token)
    assert isinstance(result, AccessToken)
    assert result.subject == "alice" and result.client_id == "notes-app"
    assert result.scopes == {"notes:read", "notes:write"}
    assert result.expires_at == NOW + 540 and result.claims["jti"] == "jti-1"
    assert result.token == token and result.allows("notes:read")
    assert not result.allows("notes:read", "admin")
    # the raw credential stays out of repr (and so out of any log of the object)
    assert token not in repr(result) and token.split(".")[2] not in repr(result)
    with pytest.raises(TypeError):
        result.claims["sub"] = "mallory"  # type: ignore[index]


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+jwt"])
async def test_typ_variants_of_at_jwt_are_accepted(
    issuer: TokenIssuer, validator: JwtValidator, typ: str
) -> None:
    assert isinstance(await validator.validate(issuer.sign(header={"typ": typ})), AccessToken)


@pytest.mark.parametrize("typ", ["JWT", "jwt", None, "at+jwt+x", "application/jwt", 1])
async def test_other_token_types_are_rejected(
    issuer: TokenIssuer, validator: JwtValidator, typ: Any
) -> None:
    """An ID token (typ JWT) the same issuer signed is no access token (RFC 9068 §4)."""
    assert "typ" in await rejected(validator, issuer.sign(header={"typ": typ}))


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": NOW - 31}, "expired"),
        ({"exp": NOW - 30}, "expired"),  # leeway is exclusive at its edge
        ({"exp": "tomorrow"}, "exp"),
        ({"exp": None}, "lacks a claim: exp"),
        ({"iss": "https://evil.example"}, "another issuer"),
        ({"aud": "https://other-api.example"}, "not meant for this API"),
        ({"aud": ["https://a.example", "https://b.example"]}, "not meant for this API"),
        ({"aud": None}, "lacks a claim: aud"),
        ({"nbf": NOW + 31}, "not valid yet"),
        ({"iat": None}, "lacks a claim: iat"),
        ({"iat": NOW + 3600}, "issued in the future"),
        ({"sub": None}, "lacks a claim: sub"),
        ({"sub": 42}, "sub"),
        ({"client_id": None}, "lacks a claim: client_id"),
        ({"client_id": ["a"]}, "client_id"),
        ({"scope": None}, "lacks a claim: scope"),
        ({"scope": ["notes:read"]}, "scope"),
    ],
)
async def test_claim_checks(
    issuer: TokenIssuer, validator: JwtValidator, claims: dict[str, Any], reason: str
) -> None:
    assert reason in await rejected(validator, issuer.sign(**claims))


async def test_iss_is_compared_exactly(issuer: TokenIssuer, validator: JwtValidator) -> None:
    for near in (issuer.url + "/", issuer.url.upper(), issuer.url.replace("http", "https")):
        assert "another issuer" in await rejected(validator, issuer.sign(iss=near))


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": NOW - 29},  # inside the default 30 s leeway
        {"nbf": NOW + 29},
        {"nbf": NOW - 100},
        {"aud": ["https://other.example", AUDIENCE]},
        {"scope": ""},
        {"exp": NOW + 100.5},
    ],
)
async def test_accepted_edge_cases(
    issuer: TokenIssuer, validator: JwtValidator, claims: dict[str, Any]
) -> None:
    assert isinstance(await validator.validate(issuer.sign(**claims)), AccessToken)


async def test_leeway_is_configurable(issuer: TokenIssuer, clock: FixedClock) -> None:
    strict = JwtValidator(
        issuer=issuer.url, audience=AUDIENCE, jwks_uri=issuer.jwks_uri, clock=clock, leeway=0
    )
    assert "expired" in await rejected(strict, issuer.sign(exp=NOW))
    assert isinstance(await strict.validate(issuer.sign(exp=NOW + 1)), AccessToken)


async def test_the_clock_decides_expiry(
    issuer: TokenIssuer, validator: JwtValidator, clock: FixedClock
) -> None:
    token = issuer.sign(exp=NOW + 60)
    assert isinstance(await validator.validate(token), AccessToken)
    clock.advance(90)
    assert "expired" in await rejected(validator, token)


async def test_tampered_payload(issuer: TokenIssuer, validator: JwtValidator) -> None:
    head, _, signature = issuer.sign().split(".")
    for changed in ({"sub": "mallory"}, {"scope": "notes:read notes:write"}):
        forged = f"{head}.{b64(issuer.claims(**changed))}.{signature}"
        assert "signature" in await rejected(validator, forged)


async def test_a_stranger_key_with_a_known_kid(
    issuer: TokenIssuer, validator: JwtValidator
) -> None:
    impostor = new_key("k1")
    assert "signature" in await rejected(validator, issuer.sign(key=impostor))


async def test_alg_none(issuer: TokenIssuer, validator: JwtValidator) -> None:
    body = b64(issuer.claims())
    for alg in ("none", "None", "NONE"):
        head = b64({"alg": alg, "typ": "at+jwt", "kid": "k1"})
        assert "ES256" in await rejected(validator, f"{head}.{body}.")
    assert issuer.hits["/jwks"] == 0  # refused before any key was needed


async def test_hs256_keyed_with_the_public_key(
    issuer: TokenIssuer, validator: JwtValidator
) -> None:
    """Algorithm confusion (RFC 8725 §2.1): the public key, known to all, as an HMAC secret."""
    public = issuer.keys[0].as_dict(private=False)
    header = {"alg": "HS256", "typ": "at+jwt", "kid": "k1"}
    for secret in (json.dumps(public).encode(), issuer.keys[0].as_pem(private=False)):
        token = sign_hs256(header, issuer.claims(), secret)
        assert "ES256" in await rejected(validator, token)
    # nor would a JWKS that published an oct key lend it to a token
    issuer.extra_jwks.append(
        OctKey.import_key(b"secretsecretsecretsecret", {"kid": "hs"}).as_dict(private=True)
    )
    oct_token = sign_hs256({**header, "kid": "hs"}, issuer.claims(), b"secretsecretsecretsecret")
    assert "ES256" in await rejected(validator, oct_token)
    assert isinstance(await validator.validate(issuer.sign()), AccessToken)  # loads the JWKS
    assert validator.jwks.kids == {"k1"}


@pytest.mark.parametrize(
    ("alg", "key"),
    [
        ("RS256", RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)),
        ("ES384", ECKey.generate_key("P-384", parameters={"kid": "k1"}, private=True)),
    ],
)
async def test_other_asymmetric_algorithms(
    issuer: TokenIssuer, validator: JwtValidator, alg: str, key: Any
) -> None:
    token = jwt.encode(
        {"alg": alg, "typ": "at+jwt", "kid": "k1"}, issuer.claims(), key, algorithms=[alg]
    )
    assert "ES256" in await rejected(validator, token)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-jwt",
        "a.b",
        "a.b.c.d",
        "....",
        f"{b64({'alg': 'ES256'})[:-2]}!!.e30.",
        "W10.e30.sig",  # header is a JSON array
        f"{b64({'alg': 'ES256', 'typ': 'at+jwt', 'kid': 'k1'})}.e30.",  # no signature
        f"{b64({'alg': 'ES256', 'typ': 'at+jwt', 'kid': 'k1'})}.bm90IGpzb24.c2ln",
        f"{b64({'alg': 'ES256', 'typ': 'at+jwt', 'kid': 7})}.e30.c2ln",
    ],
)
async def test_garbage_is_an_invalid_token_value_never_an_exception(
    validator: JwtValidator, token: str
) -> None:
    await rejected(validator, token)


async def test_the_validator_needs_one_key_source(issuer: TokenIssuer) -> None:
    with pytest.raises(ValueError, match="not both"):
        JwtValidator(
            issuer=issuer.url,
            audience=AUDIENCE,
            jwks_uri=issuer.jwks_uri,
            jwks=JwksCache(issuer.jwks_uri),
        )


async def test_a_validated_token_is_remembered_never_past_its_expiry(
    issuer: TokenIssuer, validator: JwtValidator, clock: FixedClock, monkeypatch: Any
) -> None:
    """Repeated calls with one token verify its signature once per ``cache_seconds`` (30)."""
    verified: list[str] = []
    real_decode = jwt.decode

    def counting_decode(token: str, *args: Any, **kwargs: Any) -> Any:
        verified.append(token)
        return real_decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting_decode)
    token = issuer.sign(exp=NOW + 45)
    for _ in range(3):
        assert isinstance(await validator.validate(token), AccessToken)
    assert len(verified) == 1
    clock.advance(30)
    assert isinstance(await validator.validate(token), AccessToken)
    assert len(verified) == 2  # remembered for 30 s only
    clock.advance(46)
    assert "expired" in await rejected(validator, token)  # never remembered past exp
    uncached = JwtValidator(
        issuer=issuer.url, audience=AUDIENCE, jwks_uri=issuer.jwks_uri, clock=clock,
        cache_seconds=0,
    )  # fmt: skip
    fresh = issuer.sign(exp=NOW + 600)
    for _ in range(2):
        assert isinstance(await uncached.validate(fresh), AccessToken)
    assert verified.count(fresh) == 2


def test_the_sync_validator_is_safe_to_share_between_threads(
    issuer: TokenIssuer, clock: FixedClock
) -> None:
    """WSGI servers call one validator from many threads; a tiny cache forces evictions."""
    from concurrent.futures import ThreadPoolExecutor

    from tokenpath.resource import SyncJwtValidator

    validator = SyncJwtValidator(
        issuer=issuer.url, audience=AUDIENCE, jwks_uri=issuer.jwks_uri, clock=clock, cache_size=2
    )
    tokens = [issuer.sign(jti=f"t{i}") for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(validator.validate, tokens * 50))
    assert all(isinstance(result, AccessToken) for result in results)
    assert validator.jwks.fetches == 1
