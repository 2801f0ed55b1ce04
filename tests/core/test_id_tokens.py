"""ID tokens (OIDC Core §2): what they claim, how they are signed, and where they are issued."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.core.conftest import CB, ISSUER, VERIFIER, Harness, basic, make_ctx
from tests.core.grants.support import CODE_AND_REFRESH, use
from tokenpath.core.id_tokens import half_hash, issue_id_token
from tokenpath.core.policy import Policy
from tokenpath.core.records import Client, ClientType, Session
from tokenpath.core.signing import key_retirement_delay
from tokenpath.core.subjects import subject_for

pytestmark = pytest.mark.anyio


async def verified(harness: Harness, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of ``token``, verified with joserfc against the published JWKS only."""
    jwks = KeySet.import_key_set(await harness.ctx.signer.jwks())  # type: ignore[arg-type]
    decoded = jwt.decode(token, jwks, algorithms=["ES256"])
    return dict(decoded.header), dict(decoded.claims)


def at_hash(access_token: str) -> str:
    """OIDC Core §3.1.3.6, computed here independently of the code under test."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


async def code_flow(
    harness: Harness, client: Client, secret: str | None, session: Session, **extra: str
) -> dict[str, object]:
    code = await harness.code(client, session, **extra)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CB,
        "code_verifier": VERIFIER,
        "client_id": client.client_id,
    }
    response = await harness.token(form, basic(client.client_id, secret) if secret else None)
    assert response.status == 200, response.body
    return dict(response.body)


async def test_code_exchange_returns_a_signed_id_token_with_every_claim(harness: Harness) -> None:
    client, secret = await harness.client()
    session = await harness.session()
    harness.clock.advance(30)  # auth_time is the sign-in, not the token request
    body = await code_flow(harness, client, secret, session, scope="openid", nonce="n-0S6_WzA2Mj")
    header, claims = await verified(harness, str(body["id_token"]))
    assert header["typ"] == "JWT" and header["alg"] == "ES256" and header["kid"]
    now = harness.clock.now()
    assert claims == {
        "iss": ISSUER,
        "sub": session.user_id,
        "aud": client.client_id,
        "iat": now,
        "exp": now + 600,
        "auth_time": session.auth_time,
        "nonce": "n-0S6_WzA2Mj",
        "at_hash": at_hash(str(body["access_token"])),
        "sid": session.sid,
    }
    assert session.auth_time == now - 30


async def test_no_openid_scope_no_id_token(harness: Harness) -> None:
    client, secret = await harness.client()
    body = await code_flow(harness, client, secret, await harness.session(), scope="notes:read")
    assert "id_token" not in body and "access_token" in body


async def test_no_nonce_in_the_request_no_nonce_in_the_token(harness: Harness) -> None:
    client, secret = await harness.client()
    body = await code_flow(harness, client, secret, await harness.session(), scope="openid")
    _, claims = await verified(harness, str(body["id_token"]))
    assert "nonce" not in claims


async def test_id_token_lifetime_is_the_policy_knob() -> None:
    harness = Harness(make_ctx(id_token_lifetime=120))
    client, secret = await harness.client()
    body = await code_flow(harness, client, secret, await harness.session(), scope="openid")
    _, claims = await verified(harness, str(body["id_token"]))
    assert claims["exp"] - claims["iat"] == 120


@pytest.mark.parametrize("lifetime", [0, 86401])
def test_id_token_lifetime_is_bounded(lifetime: int) -> None:
    with pytest.raises(ValueError, match="id_token_lifetime"):
        Policy(issuer=ISSUER, audience="x", id_token_lifetime=lifetime)


def test_keys_stay_published_while_id_tokens_they_signed_live() -> None:
    policy = make_ctx(id_token_lifetime=7200, access_token_lifetime=600).policy
    assert key_retirement_delay(policy) >= 7200


async def test_pairwise_client_sees_its_own_sub(harness: Harness) -> None:
    """OIDC Core §8.1: the ID token's sub is the pairwise one; access tokens keep the user id."""
    harness = Harness(make_ctx(pairwise_salt="p" * 32))
    client, secret = await harness.client()
    pairwise = replace(client, subject_type="pairwise")
    await harness.ctx.stores.clients.update(pairwise)
    session = await harness.session()
    body = await code_flow(harness, pairwise, secret, session, scope="openid")
    _, claims = await verified(harness, str(body["id_token"]))
    assert claims["sub"] == subject_for(session.user_id, pairwise, harness.ctx.policy)
    assert claims["sub"] != session.user_id


async def test_an_id_token_is_never_an_access_token(harness: Harness) -> None:
    """RFC 9068 §4: the ``typ`` keeps the two apart though the same keys sign both."""
    client, secret = await harness.client()
    body = await code_flow(harness, client, secret, await harness.session(), scope="openid")
    assert await harness.ctx.signer.verify(str(body["id_token"])) is None
    assert await harness.ctx.signer.verify(str(body["id_token"]), typ="JWT") is not None
    assert await harness.ctx.signer.verify(str(body["access_token"]), typ="JWT") is None


async def test_refresh_returns_a_new_id_token_for_the_original_sign_in(harness: Harness) -> None:
    """OIDC Core §12.2: same iss, sub, aud; new iat; the original auth_time; no nonce."""
    client, secret = await harness.client(grant_types=CODE_AND_REFRESH)
    session = await harness.session()
    first = await code_flow(harness, client, secret, session, scope="openid", nonce="n-1")
    _, original = await verified(harness, str(first["id_token"]))
    harness.clock.advance(100)
    response = await use(harness, client.client_id, secret, first["refresh_token"])
    assert response.status == 200, response.body
    _, refreshed = await verified(harness, str(response.body["id_token"]))
    for same in ("iss", "sub", "aud", "auth_time", "sid"):
        assert refreshed[same] == original[same], same
    assert refreshed["iat"] == original["iat"] + 100
    assert "nonce" not in refreshed
    assert refreshed["at_hash"] == at_hash(str(response.body["access_token"]))


async def test_refresh_narrowed_without_openid_has_no_id_token(harness: Harness) -> None:
    client, secret = await harness.client(grant_types=CODE_AND_REFRESH)
    first = await code_flow(
        harness, client, secret, await harness.session(), scope="openid notes:read"
    )
    response = await use(
        harness, client.client_id, secret, first["refresh_token"], scope="notes:read"
    )
    assert response.status == 200 and "id_token" not in response.body


async def test_user_claims_never_override_protocol_claims(harness: Harness) -> None:
    client, _ = await harness.client(kind=ClientType.PUBLIC)
    token = await issue_id_token(
        harness.ctx,
        client=client,
        user_id="u1",
        auth_time=harness.clock.now(),
        user_claims={"sub": "admin", "iss": "https://evil.example", "name": "Alice"},
    )
    _, claims = await verified(harness, token)
    assert claims["sub"] == "u1" and claims["iss"] == ISSUER and claims["name"] == "Alice"


def test_half_hash_is_the_left_half_of_sha256() -> None:
    token = "jHkWEdUXMU1BwAsC4vtUsZwnNbWmnLpi"
    assert half_hash(token) == at_hash(token)
    assert len(half_hash(token)) == 22  # 16 octets, base64url without padding
