"""DPoP at the token endpoint (RFC 9449 §5, §6, §8, §10): bound tokens for every grant, refresh
tokens of public clients bound to their key, ``dpop_jkt`` codes, the per-client and server-wide
requirements, nonces, replay, and what introspection and discovery say."""

from __future__ import annotations

from typing import Any

import pytest

from tests.core.conftest import CB, ISSUER, Harness, basic, make_ctx, query
from tests.core.grants.support import CODE_AND_REFRESH, redeem_form
from tests.support.apis import api_credentials
from tests.support.dpop import Prover
from tokenpath.core.client_metadata import parse_metadata
from tokenpath.core.errors import OAuthError
from tokenpath.core.introspection import introspect
from tokenpath.core.messages import BackchannelRequest, JsonResponse, Redirect
from tokenpath.core.metadata import authorization_server_metadata
from tokenpath.core.records import Client, ClientType, GrantType

pytestmark = pytest.mark.anyio
TOKEN_URL = f"{ISSUER}/token"
KEY_A, KEY_B = Prover("ES256"), Prover("ES256")


async def post(
    harness: Harness,
    form: dict[str, str],
    secret: str | None = None,
    *proofs: str,
) -> JsonResponse:
    from tokenpath.core.token_endpoint import token

    authorization = basic(form.get("client_id", ""), secret) if secret else None
    if secret:
        form = {k: v for k, v in form.items() if k != "client_id"}
    request = BackchannelRequest(
        form=tuple(form.items()), authorization=authorization, dpop=tuple(proofs)
    )
    return await token(request, ctx=harness.ctx)


def proof(harness: Harness, key: Prover = KEY_A, **options: Any) -> str:
    return key.proof("POST", TOKEN_URL, iat=harness.clock.now(), **options)


async def machine(harness: Harness, **options: object) -> tuple[Client, str]:
    client, secret = await harness.client(
        grant_types=[GrantType.CLIENT_CREDENTIALS], redirect_uris=[], **options
    )
    assert secret is not None
    return client, secret


def machine_form(client: Client) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": client.client_id}


def error_of(reply: JsonResponse) -> str:
    assert reply.status == 400, reply
    return str(reply.body["error"])


async def claims_of(harness: Harness, reply: JsonResponse) -> dict[str, Any]:
    claims = await harness.ctx.signer.verify(str(reply.body["access_token"]))
    assert claims is not None
    return claims


async def introspected(harness: Harness, token: str) -> dict[str, Any]:
    """What the token's API learns (only it, and the token's own client, are told)."""
    api_id, secret = await api_credentials(harness.ctx)
    request = BackchannelRequest(form=(("token", token),), authorization=basic(api_id, secret))
    reply = await introspect(request, ctx=harness.ctx)
    return dict(reply.body)


# --- bound access tokens --------------------------------------------------------------------


async def test_a_client_credentials_token_is_bound_to_the_proof_key(harness: Harness) -> None:
    client, secret = await machine(harness)
    reply = await post(harness, machine_form(client), secret, proof(harness))
    assert reply.status == 200 and reply.body["token_type"] == "DPoP"
    assert (await claims_of(harness, reply))["cnf"] == {"jkt": KEY_A.jkt}
    body = await introspected(harness, str(reply.body["access_token"]))
    assert body["active"] is True and body["token_type"] == "DPoP"
    assert body["cnf"] == {"jkt": KEY_A.jkt}


async def test_without_a_proof_the_token_stays_a_bearer_token(harness: Harness) -> None:
    client, secret = await machine(harness)
    reply = await post(harness, machine_form(client), secret)
    assert reply.status == 200 and reply.body["token_type"] == "Bearer"
    assert "cnf" not in await claims_of(harness, reply)
    body = await introspected(harness, str(reply.body["access_token"]))
    assert body["token_type"] == "Bearer" and "cnf" not in body


async def test_an_opaque_token_keeps_its_binding_for_introspection(harness: Harness) -> None:
    client, secret = await machine(harness, access_token_format="opaque")
    reply = await post(harness, machine_form(client), secret, proof(harness))
    assert reply.body["token_type"] == "DPoP"
    body = await introspected(harness, str(reply.body["access_token"]))
    assert body["token_type"] == "DPoP" and body["cnf"] == {"jkt": KEY_A.jkt}


# --- refresh tokens -------------------------------------------------------------------------


async def public_session(harness: Harness, key: Prover = KEY_A) -> tuple[Client, dict[str, Any]]:
    client, _ = await harness.client(kind=ClientType.PUBLIC, grant_types=CODE_AND_REFRESH)
    code = await harness.code(client, await harness.session())
    form = redeem_form(code, client_id=client.client_id)
    reply = await post(harness, form, None, proof(harness, key))
    assert reply.status == 200 and reply.body["token_type"] == "DPoP", reply
    return client, dict(reply.body)


def refresh_form(client: Client, body: dict[str, Any]) -> dict[str, str]:
    return {
        "grant_type": "refresh_token",
        "refresh_token": str(body["refresh_token"]),
        "client_id": client.client_id,
    }


async def test_a_public_clients_refresh_token_needs_its_key(harness: Harness) -> None:
    """§5: another key, or none, is invalid_grant and changes nothing; the right key works."""
    client, body = await public_session(harness)
    form = refresh_form(client, body)
    assert error_of(await post(harness, form, None, proof(harness, KEY_B))) == "invalid_grant"
    assert error_of(await post(harness, form)) == "invalid_grant"
    renewed = await post(harness, form, None, proof(harness, KEY_A))
    assert renewed.status == 200 and renewed.body["token_type"] == "DPoP"
    assert (await claims_of(harness, renewed))["cnf"] == {"jkt": KEY_A.jkt}
    # the rotated refresh token keeps the binding
    next_form = refresh_form(client, dict(renewed.body))
    assert error_of(await post(harness, next_form, None, proof(harness, KEY_B))) == "invalid_grant"
    assert (await post(harness, next_form, None, proof(harness, KEY_A))).status == 200


async def test_a_confidential_clients_refresh_token_is_not_bound(harness: Harness) -> None:
    """§5: it authenticates, so its refresh token is not bound; each access token is."""
    client, secret = await harness.client(grant_types=CODE_AND_REFRESH)
    assert secret is not None
    code = await harness.code(client, await harness.session())
    form = redeem_form(code, client_id=client.client_id)
    first = await post(harness, form, secret, proof(harness, KEY_A))
    assert first.body["token_type"] == "DPoP"
    renewed = await post(
        harness, refresh_form(client, dict(first.body)), secret, proof(harness, KEY_B)
    )
    assert renewed.status == 200
    assert (await claims_of(harness, renewed))["cnf"] == {"jkt": KEY_B.jkt}
    bearer = await post(harness, refresh_form(client, dict(renewed.body)), secret)
    assert bearer.status == 200 and bearer.body["token_type"] == "Bearer"


# --- dpop_jkt at /authorize -----------------------------------------------------------------


async def test_a_code_bound_with_dpop_jkt_needs_that_key(harness: Harness) -> None:
    """§10: the wrong key or no proof is invalid_grant, and the code survives for its owner."""
    client, _ = await harness.client(kind=ClientType.PUBLIC)
    code = await harness.code(client, await harness.session(), dpop_jkt=KEY_A.jkt)
    form = redeem_form(code, client_id=client.client_id)
    assert error_of(await post(harness, form, None, proof(harness, KEY_B))) == "invalid_grant"
    assert error_of(await post(harness, form)) == "invalid_grant"
    reply = await post(harness, form, None, proof(harness, KEY_A))
    assert reply.status == 200 and reply.body["token_type"] == "DPoP"


@pytest.mark.parametrize("value", ["short", "x" * 44, "a+b/" * 11 + "abc"])
async def test_a_malformed_dpop_jkt_is_an_error_redirect(harness: Harness, value: str) -> None:
    client, _ = await harness.client(kind=ClientType.PUBLIC)
    session = await harness.session()
    decision = await harness.authorize(
        session,
        consent="approve",
        response_type="code",
        client_id=client.client_id,
        redirect_uri=CB,
        state="s",
        code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        code_challenge_method="S256",
        dpop_jkt=value,
    )
    assert isinstance(decision, Redirect)
    assert query(decision)["error"] == "invalid_request" and query(decision)["state"] == "s"


async def test_implicit_tokens_cannot_be_bound() -> None:
    """A token delivered in a redirect carries no proof: asking for binding is refused."""
    harness = Harness(make_ctx(allow_implicit=True))
    client, _ = await harness.client(
        kind=ClientType.PUBLIC, grant_types=[GrantType.IMPLICIT], response_types=["token"]
    )
    session = await harness.session()
    decision = await harness.authorize(
        session,
        consent="approve",
        response_type="token",
        client_id=client.client_id,
        redirect_uri=CB,
        dpop_jkt=KEY_A.jkt,
    )
    assert isinstance(decision, Redirect) and "error=invalid_request" in decision.location


# --- who must use DPoP ----------------------------------------------------------------------


async def test_a_dpop_bound_client_must_send_a_proof(harness: Harness) -> None:
    client, secret = await machine(harness, dpop_bound_access_tokens=True)
    assert client.dpop_bound_access_tokens
    assert error_of(await post(harness, machine_form(client), secret)) == "invalid_dpop_proof"
    assert (await post(harness, machine_form(client), secret, proof(harness))).status == 200


async def test_the_server_wide_switch_requires_a_proof_of_every_client() -> None:
    harness = Harness(make_ctx(require_dpop=True))
    client, secret = await machine(harness)
    assert error_of(await post(harness, machine_form(client), secret)) == "invalid_dpop_proof"
    assert (await post(harness, machine_form(client), secret, proof(harness))).status == 200


async def test_registration_metadata_carries_the_requirement() -> None:
    body = b'{"redirect_uris": ["https://a.example/cb"], "dpop_bound_access_tokens": true}'
    assert parse_metadata(body, "application/json", update=False).dpop_bound_access_tokens
    with pytest.raises(OAuthError, match="true or false"):
        parse_metadata(
            b'{"redirect_uris": [], "dpop_bound_access_tokens": "yes"}',
            "application/json",
            update=False,
        )


# --- bad proofs, replay, nonces -------------------------------------------------------------


async def test_bad_proofs_are_invalid_dpop_proof_never_a_500(harness: Harness) -> None:
    client, secret = await machine(harness)
    now = harness.clock.now()
    bad = [
        "not-a-jwt",
        KEY_A.proof("GET", TOKEN_URL, iat=now),
        KEY_A.proof("POST", f"{ISSUER}/authorize", iat=now),
        KEY_A.proof("POST", TOKEN_URL, iat=now - 3600),
        KEY_A.proof("POST", TOKEN_URL, iat=now + 3600),
        KEY_A.proof("POST", TOKEN_URL, iat=now, header={"jwk": KEY_B.public_jwk()}),
        KEY_A.proof("POST", TOKEN_URL, iat=now, header={"typ": "JWT"}),
    ]
    for value in bad:
        reply = await post(harness, machine_form(client), secret, value)
        assert error_of(reply) == "invalid_dpop_proof"
        assert ("Cache-Control", "no-store") in reply.headers


async def test_a_proof_is_spent_by_its_first_use(harness: Harness) -> None:
    client, secret = await machine(harness)
    once = proof(harness)
    assert (await post(harness, machine_form(client), secret, once)).status == 200
    replayed = await post(harness, machine_form(client), secret, once)
    assert error_of(replayed) == "invalid_dpop_proof"
    assert "already used" in str(replayed.body["error_description"])


async def test_two_dpop_headers_are_refused(harness: Harness) -> None:
    client, secret = await machine(harness)
    reply = await post(harness, machine_form(client), secret, proof(harness), proof(harness))
    assert error_of(reply) == "invalid_dpop_proof"


async def test_with_nonces_on_a_proof_needs_the_servers_nonce() -> None:
    """§8: use_dpop_nonce with DPoP-Nonce; the retry with it succeeds and gets the next one."""
    harness = Harness(make_ctx(require_dpop_nonce=True))
    client, secret = await machine(harness)
    first = await post(harness, machine_form(client), secret, proof(harness))
    assert error_of(first) == "use_dpop_nonce"
    nonce = dict(first.headers)["DPoP-Nonce"]
    stale = proof(harness, nonce="made-up")
    assert error_of(await post(harness, machine_form(client), secret, stale)) == "use_dpop_nonce"
    retry = await post(harness, machine_form(client), secret, proof(harness, nonce=nonce))
    assert retry.status == 200 and dict(retry.headers)["DPoP-Nonce"] == nonce
    harness.clock.advance(harness.ctx.policy.dpop_nonce_window)
    assert (
        await post(harness, machine_form(client), secret, proof(harness, nonce=nonce))
    ).status == 200
    harness.clock.advance(harness.ctx.policy.dpop_nonce_window)
    late = await post(harness, machine_form(client), secret, proof(harness, nonce=nonce))
    assert error_of(late) == "use_dpop_nonce"
    assert dict(late.headers)["DPoP-Nonce"] != nonce


async def test_without_nonces_no_nonce_header_is_sent(harness: Harness) -> None:
    client, secret = await machine(harness)
    reply = await post(harness, machine_form(client), secret, proof(harness))
    assert "DPoP-Nonce" not in dict(reply.headers)


def test_discovery_lists_the_proof_algorithms() -> None:
    metadata = authorization_server_metadata(make_ctx().policy)
    assert metadata["dpop_signing_alg_values_supported"] == ["ES256", "EdDSA", "RS256", "PS256"]
