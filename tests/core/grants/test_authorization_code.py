"""The authorization code grant at the token endpoint (RFC 6749 §4.1.3-4.1.4; RFC 9700 §4.2.4)."""

from __future__ import annotations

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.core.conftest import AUDIENCE, ISSUER, Harness, basic, make_ctx
from tests.core.grants.support import confidential, redeem_form
from tokenpath.core.clock import hash_token
from tokenpath.core.records import ClientType

pytestmark = pytest.mark.anyio


async def test_code_exchange_with_basic_auth(harness: Harness) -> None:
    client_id, secret, code = await confidential(harness)
    response = await harness.token(redeem_form(code), basic(client_id, secret))
    assert response.status == 200, response.body
    assert ("Cache-Control", "no-store") in response.headers
    body = response.body
    assert body["token_type"] == "Bearer" and body["expires_in"] == 600
    assert body["scope"] == "openid profile notes:read"
    assert "refresh_token" not in body
    # RFC 9068: verifiable with the published JWKS, with the right header and claims.
    jwks = KeySet.import_key_set(await harness.ctx.signer.jwks())  # type: ignore[arg-type]
    decoded = jwt.decode(str(body["access_token"]), jwks, algorithms=["ES256"])
    assert decoded.header["typ"] == "at+jwt"
    claims = decoded.claims
    assert (
        claims["iss"] == ISSUER and claims["aud"] == AUDIENCE and claims["client_id"] == client_id
    )
    assert claims["exp"] - claims["iat"] == 600 and claims["gty"] == "authorization_code"
    assert isinstance(claims["grant_id"], str)
    # Self-contained: issuing a JWT stores nothing; only a revocation would.
    assert await harness.ctx.stores.tokens.get(claims["jti"]) is None


async def test_client_secret_post_and_public_client(harness: Harness) -> None:
    client_id, secret, code = await confidential(
        harness, token_endpoint_auth_method="client_secret_post"
    )
    response = await harness.token(redeem_form(code, client_id=client_id, client_secret=secret))
    assert response.status == 200
    public, _ = await harness.client(kind=ClientType.PUBLIC)
    session = await harness.ctx.stores.sessions.get(
        next(iter(harness.ctx.stores.sessions.rows)), harness.clock.now()
    )  # type: ignore[attr-defined]
    assert session is not None
    code = await harness.code(public, session)
    response = await harness.token(redeem_form(code, client_id=public.client_id))
    assert response.status == 200, response.body


@pytest.mark.parametrize(
    ("form_change", "auth", "status", "error"),
    [
        ({"client_secret": "x"}, "basic", 400, "invalid_request"),  # two methods
        ({}, "wrong-secret", 401, "invalid_client"),
        ({}, "none", 401, "invalid_client"),  # confidential without secret
        (
            {"grant_type": "password", "username": "alice", "password": "correct horse"},
            "basic",
            400,
            "unsupported_grant_type",
        ),
        ({"grant_type": None}, "basic", 400, "invalid_request"),
        ({"code": None}, "basic", 400, "invalid_request"),
        ({"code": "not-a-code"}, "basic", 400, "invalid_grant"),
        ({"redirect_uri": "https://client.example/cb/"}, "basic", 400, "invalid_grant"),
        ({"redirect_uri": None}, "basic", 400, "invalid_grant"),  # sent at /authorize, so required
        ({"code_verifier": "w" * 43}, "basic", 400, "invalid_grant"),
        ({"code_verifier": None}, "basic", 400, "invalid_grant"),
        ({"code_verifier": "short"}, "basic", 400, "invalid_grant"),
    ],
)
async def test_token_errors_change_nothing(
    harness: Harness, form_change: dict[str, str | None], auth: str, status: int, error: str
) -> None:
    client_id, secret, code = await confidential(harness)
    form = {k: v for k, v in {**redeem_form(code), **form_change}.items() if v is not None}
    header = {
        "basic": basic(client_id, secret),
        "wrong-secret": basic(client_id, "nope"),
        "none": None,
    }[auth]
    if auth == "none":
        form["client_id"] = client_id
    response = await harness.token(form, header)
    assert (response.status, response.body["error"]) == (status, error), response.body
    assert ("Cache-Control", "no-store") in response.headers
    if auth == "wrong-secret":
        assert ("WWW-Authenticate", 'Basic realm="tokenpath"') in response.headers
    # the code is still unused and redeemable: a failed request changed nothing
    stored = await harness.ctx.stores.codes.get(hash_token(code))
    assert stored is not None and stored.consumed_at is None
    assert (await harness.token(redeem_form(code), basic(client_id, secret))).status == 200


async def test_code_issued_to_another_client(harness: Harness) -> None:
    _, _, code = await confidential(harness)
    other, other_secret = await harness.client()
    assert other_secret is not None
    response = await harness.token(redeem_form(code), basic(other.client_id, other_secret))
    assert response.body["error"] == "invalid_grant"


async def test_expired_code(harness: Harness) -> None:
    client_id, secret, code = await confidential(harness)
    harness.clock.advance(60)
    response = await harness.token(redeem_form(code), basic(client_id, secret))
    assert response.body["error"] == "invalid_grant" and "expired" in str(
        response.body["error_description"]
    )


async def test_replay_revokes_tokens_but_bad_replays_do_not(harness: Harness) -> None:
    client_id, secret, code = await confidential(harness)
    first = await harness.token(redeem_form(code), basic(client_id, secret))
    assert first.status == 200
    stored = await harness.ctx.stores.codes.get(hash_token(code))
    assert stored is not None
    # an attacker replaying with a wrong verifier must not be able to revoke the victim's tokens
    bad = await harness.token(redeem_form(code, code_verifier="w" * 43), basic(client_id, secret))
    assert bad.body["error"] == "invalid_grant"
    grant = await harness.ctx.stores.grants.get(stored.grant_id)
    assert grant is not None and grant.revoked_at is None
    # a valid replay: refused, and the grant (so every token from it) is revoked
    replay = await harness.token(redeem_form(code), basic(client_id, secret))
    assert replay.body["error"] == "invalid_grant"
    grant = await harness.ctx.stores.grants.get(stored.grant_id)
    assert grant is not None and grant.revoked_at is not None


async def test_downgrade_code_without_challenge_rejects_verifier() -> None:
    """Catalog A2.1 (RFC 9700 §4.8.2)."""
    harness = Harness(make_ctx())
    client, secret = await harness.client()
    assert secret is not None
    session = await harness.session()
    code = await harness.code(client, session, code_challenge="", code_challenge_method="")
    response = await harness.token(redeem_form(code), basic(client.client_id, secret))
    assert response.body["error"] == "invalid_grant"
    ok = await harness.token(
        {k: v for k, v in redeem_form(code).items() if k != "code_verifier"},
        basic(client.client_id, secret),
    )
    assert ok.status == 200


async def test_redirect_uri_may_be_omitted_when_it_was_not_sent(harness: Harness) -> None:
    client, secret = await harness.client()
    assert secret is not None
    session = await harness.session()
    code = await harness.code(client, session, redirect_uri="")
    form = {k: v for k, v in redeem_form(code).items() if k != "redirect_uri"}
    assert (await harness.token(form, basic(client.client_id, secret))).status == 200
