"""The JWKS cache against a real loopback issuer: rotation, rate-limited re-fetch, discovery.

Fetches are counted where they arrive (the issuer server), not only where they leave.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from joserfc.jwk import ECKey, OctKey, RSAKey
from starlette.responses import RedirectResponse, Response

from tests.resource.support import AUDIENCE, TokenIssuer, both_shells, new_key
from tests.support.servers import free_port
from tokenpath.core.clock import FixedClock
from tokenpath.core.errors import InvalidToken
from tokenpath.resource import AccessToken, JwksCache, JwtValidator
from tokenpath.resource.jwks import MAX_DOCUMENT_BYTES, metadata_urls, signing_keys

pytestmark = pytest.mark.anyio
INTERVAL = 30
MAX_AGE = 300


@pytest.fixture
def jwks(issuer: TokenIssuer, clock: FixedClock) -> JwksCache:
    return JwksCache(issuer.jwks_uri, clock=clock, refetch_interval=INTERVAL, max_age=MAX_AGE)


@pytest.fixture(params=["async", "sync"])
def validator(
    issuer: TokenIssuer, jwks: JwksCache, clock: FixedClock, request: pytest.FixtureRequest
) -> JwtValidator:
    """Each test runs with both shells (``get`` and ``get_sync``) over the one cache logic."""
    validator = JwtValidator(issuer=issuer.url, audience=AUDIENCE, jwks=jwks, clock=clock)
    return both_shells(validator, request.param)


async def accepted(validator: JwtValidator, token: str) -> bool:
    return isinstance(await validator.validate(token), AccessToken)


async def test_keys_are_fetched_once_and_cached(
    issuer: TokenIssuer, validator: JwtValidator, clock: FixedClock
) -> None:
    for _ in range(5):
        assert await accepted(validator, issuer.sign())
        clock.advance(10)
    assert issuer.hits["/jwks"] == 1


async def test_unknown_kid_refetches_once_then_fails(
    issuer: TokenIssuer, validator: JwtValidator, clock: FixedClock
) -> None:
    assert await accepted(validator, issuer.sign())
    clock.advance(INTERVAL)
    result = await validator.validate(issuer.sign(key=new_key("stranger")))
    assert isinstance(result, InvalidToken) and "unknown key" in result.description
    assert issuer.hits["/jwks"] == 2


async def test_key_rotation_is_picked_up_by_the_refetch(
    issuer: TokenIssuer, validator: JwtValidator, clock: FixedClock
) -> None:
    assert await accepted(validator, issuer.sign())
    clock.advance(INTERVAL)
    rotated = new_key("k2")
    issuer.keys.insert(0, rotated)
    assert await accepted(validator, issuer.sign(key=rotated))
    assert await accepted(validator, issuer.sign(key=issuer.keys[1]))  # the old key still works
    assert issuer.hits["/jwks"] == 2


async def test_refetch_is_rate_limited(
    issuer: TokenIssuer, validator: JwtValidator, jwks: JwksCache, clock: FixedClock
) -> None:
    """Tokens naming unknown kids cannot make the API hammer the issuer: one fetch per interval."""
    assert await accepted(validator, issuer.sign())
    clock.advance(INTERVAL)
    for i in range(25):
        assert not await accepted(validator, issuer.sign(key=new_key(f"x{i}")))
        clock.advance(1)  # 25 s pass: still inside one interval after the re-fetch
    assert issuer.hits["/jwks"] == 2 and jwks.fetches == 2
    # a key that appears meanwhile waits for the next allowed fetch
    late = new_key("late")
    issuer.keys.append(late)
    assert not await accepted(validator, issuer.sign(key=late))
    clock.advance(INTERVAL)
    assert await accepted(validator, issuer.sign(key=late))
    assert issuer.hits["/jwks"] == 3


async def test_concurrent_misses_share_one_fetch(
    issuer: TokenIssuer, validator: JwtValidator
) -> None:
    rotated = new_key("k2")
    issuer.keys.append(rotated)
    tokens = [issuer.sign(key=rotated) for _ in range(10)] + [
        issuer.sign(key=new_key(f"x{i}")) for i in range(10)
    ]
    results = await asyncio.gather(*(validator.validate(t) for t in tokens))
    assert all(isinstance(r, AccessToken) for r in results[:10])
    assert all(isinstance(r, InvalidToken) for r in results[10:])
    assert issuer.hits["/jwks"] == 1


async def test_a_retired_key_stops_validating_after_max_age(
    issuer: TokenIssuer, validator: JwtValidator, clock: FixedClock
) -> None:
    old = issuer.keys[0]
    assert await accepted(validator, issuer.sign(key=old))
    issuer.keys = [new_key("k2")]
    clock.advance(MAX_AGE - 1)
    assert await accepted(validator, issuer.sign(key=old, exp=clock.now() + 60))  # cached
    clock.advance(1)
    assert not await accepted(validator, issuer.sign(key=old, exp=clock.now() + 60))
    assert issuer.hits["/jwks"] == 2


async def test_an_issuer_outage_keeps_the_last_good_keys(
    issuer: TokenIssuer, validator: JwtValidator, clock: FixedClock
) -> None:
    assert await accepted(validator, issuer.sign())
    issuer.documents["/jwks"] = lambda: Response("down", status_code=503)
    clock.advance(MAX_AGE)
    assert await accepted(validator, issuer.sign(exp=clock.now() + 60))
    assert issuer.hits["/jwks"] == 2  # it did try


async def test_unreachable_jwks_is_invalid_token_not_an_exception(clock: FixedClock) -> None:
    closed = f"http://127.0.0.1:{free_port()}/jwks"  # reserved, nobody listens
    validator = JwtValidator(
        issuer="https://as.example", audience=AUDIENCE, jwks_uri=closed, clock=clock
    )
    result = await validator.validate(TokenIssuer("https://as.example").sign())
    assert isinstance(result, InvalidToken) and "unavailable" in result.description


@pytest.mark.parametrize(
    "document",
    [
        lambda: {"keys": []},
        lambda: {"keys": "nope"},
        lambda: ["not", "a", "set"],
        lambda: Response(b"\xff\xfe", media_type="application/json"),
        lambda: Response(b"x" * (MAX_DOCUMENT_BYTES + 1), media_type="application/json"),
        lambda: RedirectResponse("/elsewhere", status_code=302),  # redirects are not followed
    ],
)
async def test_bad_jwks_documents_are_refused(
    issuer: TokenIssuer, validator: JwtValidator, document: object
) -> None:
    token = issuer.sign()
    issuer.documents["/elsewhere"] = issuer.jwks
    issuer.documents["/jwks"] = document  # type: ignore[assignment]
    result = await validator.validate(token)
    assert isinstance(result, InvalidToken) and "unavailable" in result.description
    assert issuer.hits["/elsewhere"] == 0


def test_only_public_es256_signing_keys_are_kept() -> None:
    ec = new_key("ec")
    document = {
        "keys": [
            ec.as_dict(private=True),  # a private part published by mistake is dropped
            {**new_key("enc").as_dict(private=False), "use": "enc"},
            {**new_key("es384").as_dict(private=False), "alg": "ES384"},
            ECKey.generate_key("P-384", parameters={"kid": "p384"}).as_dict(private=False),
            RSAKey.generate_key(2048, parameters={"kid": "rsa"}).as_dict(private=False),
            OctKey.generate_key(256, parameters={"kid": "oct"}).as_dict(private=True),
            {"kty": "EC", "crv": "P-256", "kid": "broken", "x": "AA", "y": "AA"},
            "junk",
        ]
    }
    keys = signing_keys(document)
    assert set(keys) == {"ec"} and not keys["ec"].is_private
    unnamed = new_key("ignored").as_dict(private=False)
    del unnamed["kid"]
    assert list(signing_keys({"keys": [unnamed]})) == [ECKey.import_key(unnamed).thumbprint()]


async def test_a_token_without_kid_uses_the_only_key(
    issuer: TokenIssuer, validator: JwtValidator
) -> None:
    assert await accepted(validator, issuer.sign(header={"kid": None}))
    issuer.keys.append(new_key("k2"))
    other = JwtValidator(issuer=issuer.url, audience=AUDIENCE, jwks_uri=issuer.jwks_uri)
    assert not await accepted(other, issuer.sign(header={"kid": None}))  # ambiguous: refused


def test_metadata_urls_follow_rfc_8414_then_the_appended_form() -> None:
    assert metadata_urls("https://as.example") == [
        "https://as.example/.well-known/oauth-authorization-server"
    ]
    assert metadata_urls("https://as.example/tenant") == [
        "https://as.example/.well-known/oauth-authorization-server/tenant",
        "https://as.example/tenant/.well-known/oauth-authorization-server",
    ]


async def test_discovery_finds_the_jwks_uri(issuer: TokenIssuer, clock: FixedClock) -> None:
    validator = JwtValidator(issuer=issuer.url, audience=AUDIENCE, clock=clock)
    assert await accepted(validator, issuer.sign())
    assert await accepted(validator, issuer.sign())
    assert issuer.hits["/.well-known/oauth-authorization-server"] == 1
    assert issuer.hits["/jwks"] == 1 and validator.jwks.jwks_uri == issuer.jwks_uri


@pytest.mark.parametrize(
    "metadata_path",
    [
        "/.well-known/oauth-authorization-server/tenant",  # RFC 8414 §3.1
        "/tenant/.well-known/oauth-authorization-server",  # appended, as OpenID Discovery does
    ],
)
async def test_discovery_for_an_issuer_with_a_path(
    issuer: TokenIssuer, clock: FixedClock, metadata_path: str
) -> None:
    tenant = f"{issuer.url}/tenant"
    issuer.documents.clear()
    issuer.documents["/tenant/keys"] = issuer.jwks
    issuer.documents[metadata_path] = lambda: {"issuer": tenant, "jwks_uri": f"{tenant}/keys"}
    validator = JwtValidator(issuer=tenant, audience=AUDIENCE, clock=clock)
    assert await accepted(validator, issuer.sign(iss=tenant))
    assert issuer.hits["/tenant/keys"] == 1


@pytest.mark.parametrize(
    "metadata",
    [
        {"issuer": "https://evil.example", "jwks_uri": "https://evil.example/jwks"},
        {"issuer": None},
        {"jwks_uri": "x"},
        ["not", "metadata"],
    ],
)
async def test_discovery_refuses_metadata_of_another_issuer(
    issuer: TokenIssuer, clock: FixedClock, metadata: object
) -> None:
    """RFC 8414 §3.3: the ``issuer`` in the metadata must be the one we asked about."""
    evil_keys = new_key("k1")
    issuer.documents["/.well-known/oauth-authorization-server"] = lambda: (
        {**metadata, "jwks_uri": f"{issuer.url}/evil"} if isinstance(metadata, dict) else metadata
    )
    issuer.documents["/evil"] = lambda: {"keys": [evil_keys.as_dict(private=False)]}
    validator = JwtValidator(issuer=issuer.url, audience=AUDIENCE, clock=clock)
    result = await validator.validate(issuer.sign(key=evil_keys))
    assert isinstance(result, InvalidToken) and "unavailable" in result.description
    assert issuer.hits["/evil"] == 0


def test_a_cache_needs_somewhere_to_fetch_from() -> None:
    with pytest.raises(ValueError, match="jwks_uri"):
        JwksCache()


async def test_the_cache_serves_several_event_loops(issuer: TokenIssuer) -> None:
    """One validator per process may be called from several loops (threads, test clients)."""
    validator = JwtValidator(
        issuer=issuer.url, audience=AUDIENCE, jwks_uri=issuer.jwks_uri, refetch_interval=0
    )
    now = int(time.time())

    def validate_in_a_new_loop(kid: str) -> bool:
        key = new_key(kid)
        issuer.keys.append(key)
        return asyncio.run(accepted(validator, issuer.sign(key=key, iat=now, exp=now + 600)))

    assert await asyncio.to_thread(validate_in_a_new_loop, "loop-a")
    assert await asyncio.to_thread(validate_in_a_new_loop, "loop-b")
    assert issuer.hits["/jwks"] == 2
