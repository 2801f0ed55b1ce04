"""private_key_jwt (RFC 7523 §2.2, §3): signature, claims, and jti replay."""

from __future__ import annotations

import json

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from tests.core.conftest import ISSUER, Harness
from tokenpath.core.client_assertion import ASSERTION_TYPE
from tokenpath.core.records import GrantType
from tokenpath.core.registration import InvalidClientMetadata

pytestmark = pytest.mark.anyio
KEY = ECKey.generate_key("P-256", private=True)


def public_jwks(key: ECKey | RSAKey) -> str:
    return json.dumps({"keys": [key.as_dict(private=False)]})


def assertion(
    client_id: str, now: int, *, key: ECKey | RSAKey = KEY, alg: str = "ES256", **claims: object
) -> str:
    body = {
        "iss": client_id,
        "sub": client_id,
        "aud": ISSUER,
        "exp": now + 60,
        "jti": "j1",
        **claims,
    }
    return jwt.encode({"alg": alg}, {k: v for k, v in body.items() if v is not None}, key)


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
