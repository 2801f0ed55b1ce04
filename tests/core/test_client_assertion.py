"""private_key_jwt (RFC 7523 §2.2, §3): signature, claims, and jti replay."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OKPKey, RSAKey

from tests.core.conftest import ISSUER, Harness
from tokenpath.core.client_assertion import (
    ASSERTION_TYPE,
    MAX_LIFETIME,
    public_signing_keys,
    verify_client_assertion,
)
from tokenpath.core.records import Client, GrantType
from tokenpath.core.registration import InvalidClientMetadata

pytestmark = pytest.mark.anyio
KEY = ECKey.generate_key("P-256", private=True)


def public_jwks(key: ECKey | RSAKey | OKPKey) -> str:
    return json.dumps({"keys": [key.as_dict(private=False)]})


def assertion(
    client_id: str,
    now: int,
    *,
    key: ECKey | RSAKey | OKPKey = KEY,
    alg: str = "ES256",
    **claims: object,
) -> str:
    body = {
        "iss": client_id,
        "sub": client_id,
        "aud": ISSUER,
        "exp": now + 60,
        "jti": "j1",
        **claims,
    }
    claims_set = {k: v for k, v in body.items() if v is not None}
    return jwt.encode({"alg": alg}, claims_set, key, algorithms=[alg])


async def machine(harness: Harness) -> str:
    client, secret = await harness.client(
        grant_types=[GrantType.CLIENT_CREDENTIALS], redirect_uris=[], jwks=public_jwks(KEY)
    )
    assert secret is None and client.token_endpoint_auth_method == "private_key_jwt"
    return client.client_id


def form(token: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": token,
    }


async def test_valid_assertion_then_replay(harness: Harness) -> None:
    client_id = await machine(harness)
    token = assertion(client_id, harness.clock.now())
    assert (await harness.token(form(token))).status == 200
    replay = await harness.token(form(token))
    assert replay.status == 401 and replay.body["error"] == "invalid_client"
    fresh = assertion(client_id, harness.clock.now(), jti="j2", aud=[ISSUER])
    assert (await harness.token(form(fresh))).status == 200, "a single-member array is allowed"


@pytest.mark.parametrize(
    "change",
    [
        {"iss": "someone-else"},
        {"aud": "https://other.example/token"},
        {"aud": f"{ISSUER}/token"},
        {"aud": ["https://evil.example/token", ISSUER]},
        {"aud": [ISSUER, ISSUER]},
        {"aud": f"{ISSUER}/"},
        {"aud": None},
        {"aud": 7},
        {"exp": None},
        {"exp": -1},
        {"exp": 3600},
        {"jti": None},
        {"key": "other"},
        {"alg": "HS256"},
    ],
)
async def test_bad_assertions(harness: Harness, change: dict[str, object]) -> None:
    client_id = await machine(harness)
    now = harness.clock.now()
    claims = {k: v for k, v in change.items() if k not in ("key", "alg")}
    if isinstance(claims.get("exp"), int):
        claims["exp"] = now + int(claims["exp"])  # type: ignore[call-overload]
    if change.get("key") == "other":
        token = assertion(client_id, now, key=ECKey.generate_key("P-256", private=True), **claims)
    elif change.get("alg") == "HS256":
        from joserfc.jwk import OctKey

        secret_key = OctKey.import_key(json.dumps(KEY.as_dict(private=False)).encode())
        token = jwt.encode(
            {"alg": "HS256"},
            {"iss": client_id, "sub": client_id, "aud": ISSUER, "exp": now + 60, "jti": "x"},
            secret_key,
        )
    else:
        token = assertion(client_id, now, **claims)
    response = await harness.token(form(token))
    assert response.status == 401 and response.body["error"] == "invalid_client"


async def test_assertion_and_secret_together_is_invalid_request(harness: Harness) -> None:
    client_id = await machine(harness)
    body = {**form(assertion(client_id, harness.clock.now())), "client_secret": "x"}
    assert (await harness.token(body)).body["error"] == "invalid_request"
    bad_type = {**form("a.b.c"), "client_assertion_type": "urn:other"}
    assert (await harness.token(bad_type)).status == 401


async def test_registration_refuses_private_keys_and_garbage(harness: Harness) -> None:
    for jwks in (
        json.dumps({"keys": [KEY.as_dict(private=True)]}),
        "not json",
        json.dumps({"keys": []}),
    ):
        with pytest.raises(InvalidClientMetadata):
            await harness.client(
                grant_types=[GrantType.CLIENT_CREDENTIALS], redirect_uris=[], jwks=jwks
            )


async def registered(harness: Harness) -> Client:
    client, _ = await harness.client(
        grant_types=[GrantType.CLIENT_CREDENTIALS], redirect_uris=[], jwks=public_jwks(KEY)
    )
    return client


async def test_exp_window_bounds(harness: Harness) -> None:
    """``exp`` must lie in (now, now + MAX_LIFETIME]: ``exp == now`` has already expired."""
    client = await registered(harness)
    now = harness.clock.now()
    on_time = assertion(client.client_id, now, exp=now + MAX_LIFETIME)
    assert not isinstance(await verify_client_assertion(on_time, client, harness.ctx), str)
    expired = assertion(client.client_id, now, exp=now)
    assert await verify_client_assertion(expired, client, harness.ctx) == (
        "exp missing, past, or too far ahead"
    )


# RFC 9864 deprecates "EdDSA" in favour of "Ed25519"; it is still advertised, so still tested.
@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
async def test_every_advertised_algorithm_is_accepted(harness: Harness) -> None:
    """SIGNING_ALGS is the allow-list given to the JWT library, not that library's default."""
    rsa = RSAKey.generate_key(2048, private=True)
    okp = OKPKey.generate_key("Ed25519", private=True)
    base = await registered(harness)
    now = harness.clock.now()
    for key, alg in ((rsa, "PS256"), (rsa, "RS256"), (okp, "EdDSA"), (KEY, "ES256")):
        client = replace(base, jwks=public_jwks(key))
        token = assertion(client.client_id, now, key=key, alg=alg)
        claims = await verify_client_assertion(token, client, harness.ctx)
        assert not isinstance(claims, str), (alg, claims)
        assert claims["jti"] == "j1"


async def test_each_refusal_has_its_log_reason(harness: Harness) -> None:
    """The reasons are for the security log only; the client always sees ``invalid_client``."""
    client = await registered(harness)
    now = harness.clock.now()
    cid = client.client_id
    cases = [
        (assertion(cid, now), replace(client, jwks=None)),
        (assertion(cid, now), replace(client, token_endpoint_auth_method="client_secret_basic")),
        (assertion(cid, now), replace(client, jwks="not json")),
        (assertion(cid, now, sub="someone-else"), client),
        (assertion(cid, now, aud=[ISSUER, ISSUER]), client),
        (assertion(cid, now, exp=now + MAX_LIFETIME + 1), client),
        (assertion(cid, now, jti=""), client),
    ]
    reasons = [await verify_client_assertion(token, record, harness.ctx) for token, record in cases]
    assert reasons == [
        "client is not registered for private_key_jwt",
        "client is not registered for private_key_jwt",
        "assertion signature invalid: JSONDecodeError",
        "iss and sub must be the client_id",
        "aud must be the issuer identifier, as the only audience",
        "exp missing, past, or too far ahead",
        "jti is required",
    ]


# --- keys published at a jwks_uri (RFC 7591 §2), read through a KeySetSource ---

JWKS_URI = "https://client.example/jwks.json"
OLD = ECKey.generate_key("P-256", private=True, auto_kid=True)
NEW = ECKey.generate_key("P-256", private=True, auto_kid=True)


class FakeKeySets:
    """A client's published set and the set a cache last saw; records every call."""

    def __init__(self, published: ECKey | None, cached: ECKey | None = None) -> None:
        self.published = public_jwks(published) if published else None
        self.cached = public_jwks(cached) if cached else self.published
        self.calls: list[tuple[str, bool]] = []

    async def key_set(self, uri: str, *, refresh: bool = False) -> str | None:
        self.calls.append((uri, refresh))
        if refresh:
            self.cached = self.published
        return self.cached


async def uri_client(harness: Harness, source: FakeKeySets | None) -> Client:
    harness.ctx = replace(harness.ctx, key_sets=source)
    client, secret = await harness.client(
        grant_types=[GrantType.CLIENT_CREDENTIALS], redirect_uris=[], jwks_uri=JWKS_URI
    )
    assert secret is None and client.jwks is None and client.jwks_uri == JWKS_URI
    assert client.token_endpoint_auth_method == "private_key_jwt"
    return client


def signed(client: Client, now: int, key: ECKey, jti: str = "j1") -> str:
    body = {"iss": client.client_id, "sub": client.client_id, "aud": ISSUER, "exp": now + 60}
    return jwt.encode({"alg": "ES256", "kid": key.kid}, {**body, "jti": jti}, key)


async def test_jwks_uri_key_in_the_cached_set_needs_no_refetch(harness: Harness) -> None:
    source = FakeKeySets(OLD)
    client = await uri_client(harness, source)
    response = await harness.token(form(signed(client, harness.clock.now(), OLD)))
    assert response.status == 200, response.body
    assert source.calls == [(JWKS_URI, False)]


async def test_a_rotated_key_is_refetched_once(harness: Harness) -> None:
    """The client published NEW after the cache saw OLD: one refetch, and it is accepted."""
    source = FakeKeySets(NEW, cached=OLD)
    client = await uri_client(harness, source)
    response = await harness.token(form(signed(client, harness.clock.now(), NEW)))
    assert response.status == 200, response.body
    assert source.calls == [(JWKS_URI, False), (JWKS_URI, True)]
    again = await harness.token(form(signed(client, harness.clock.now(), NEW, jti="j2")))
    assert again.status == 200 and source.calls[2:] == [(JWKS_URI, False)]


async def test_a_kid_missing_even_after_the_refetch_fails_after_one_refetch(
    harness: Harness,
) -> None:
    source = FakeKeySets(OLD)
    client = await uri_client(harness, source)
    stranger = ECKey.generate_key("P-256", private=True, auto_kid=True)
    token = signed(client, harness.clock.now(), stranger)
    assert await verify_client_assertion(token, client, harness.ctx) == (
        "assertion kid not in the client's key set, even after a refetch"
    )
    assert source.calls == [(JWKS_URI, False), (JWKS_URI, True)]
    response = await harness.token(form(token))
    assert response.status == 401 and response.body["error"] == "invalid_client"
    assert len(source.calls) == 4, "never more than one refetch per request"


async def test_an_unavailable_key_set_refuses(harness: Harness) -> None:
    source = FakeKeySets(None)
    client = await uri_client(harness, source)
    token = signed(client, harness.clock.now(), OLD)
    reason = await verify_client_assertion(token, client, harness.ctx)
    assert reason == "the client's jwks_uri key set is unavailable"
    assert source.calls == [(JWKS_URI, False)]
    assert (await harness.token(form(token))).status == 401


async def test_without_a_key_set_source_jwks_uri_clients_cannot_authenticate(
    harness: Harness,
) -> None:
    client = await uri_client(harness, None)
    token = signed(client, harness.clock.now(), OLD)
    reason = await verify_client_assertion(token, client, harness.ctx)
    assert reason == "jwks_uri is registered but no key set source is configured"
    assert (await harness.token(form(token))).status == 401


async def test_a_bad_signature_with_a_known_kid_is_not_refetched(harness: Harness) -> None:
    source = FakeKeySets(OLD)
    client = await uri_client(harness, source)
    now = harness.clock.now()
    claims = {"iss": client.client_id, "sub": client.client_id, "aud": ISSUER, "exp": now + 60}
    token = jwt.encode({"alg": "ES256", "kid": OLD.kid}, {**claims, "jti": "x"}, NEW)
    reason = await verify_client_assertion(token, client, harness.ctx)
    assert reason == "assertion signature invalid: BadSignatureError"
    assert source.calls == [(JWKS_URI, False)]


def test_public_signing_keys_keeps_only_public_signature_keys() -> None:
    private = KEY.as_dict(private=True)
    encryption = {**NEW.as_dict(private=False), "use": "enc"}
    garbage = {"kty": "EC", "crv": "P-256"}
    document = {"keys": [OLD.as_dict(private=False), private, encryption, garbage, "x"]}
    text, dropped = public_signing_keys(document)
    assert text is not None and dropped == 4
    assert json.loads(text) == {"keys": [dict(OLD.as_dict(private=False))]}
    assert public_signing_keys({"keys": [private]}) == (None, 1)
    assert public_signing_keys(["not", "a", "set"]) == (None, 0)


def test_public_signing_keys_skip_bad_members_and_keep_reading() -> None:
    """An encryption key or an unreadable member before a good key does not hide that key."""
    good = ECKey.generate_key("P-256", private=True).as_dict(private=False)
    document = {
        "keys": [
            {**good, "use": "enc"},
            {"kty": "EC", "crv": "P-256", "x": "not base64"},
            "not a member",
            good,
        ]
    }
    text, dropped = public_signing_keys(document)
    assert text is not None and dropped == 3
    assert json.loads(text)["keys"] == [good]
