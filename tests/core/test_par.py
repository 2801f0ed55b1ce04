"""``POST /par`` (RFC 9126 §2) as plain calls: client authentication as at ``/token``, the
``/authorize`` checks answered as JSON, and the RFC's own examples as vectors."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from tests.core.conftest import CB, VERIFIER, Harness, basic, make_ctx, query
from tests.core.grants.support import redeem_form
from tests.core.test_dpop_binding import KEY_A, KEY_B, error_of, post, proof
from tokenpath.core.apis import add_api
from tokenpath.core.authorize import authorize
from tokenpath.core.client_auth import hash_client_secret
from tokenpath.core.messages import BackchannelRequest, ErrorPage, JsonResponse, Redirect
from tokenpath.core.par import push
from tokenpath.core.pkce import s256
from tokenpath.core.pushed_requests import REQUEST_URI_PREFIX
from tokenpath.core.records import ApiScope, Client, ClientType

pytestmark = pytest.mark.anyio

VECTOR = json.loads((Path(__file__).parents[1] / "vectors" / "rfc9126.json").read_text())


async def pushed(
    harness: Harness, form: dict[str, str] | list[tuple[str, str]], authorization: str | None
) -> JsonResponse:
    pairs = tuple(form.items()) if isinstance(form, dict) else tuple(form)
    return await push(BackchannelRequest(form=pairs, authorization=authorization), ctx=harness.ctx)


def request_for(client: Client, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": CB,
        "scope": "openid",
        "state": "af0ifjsldkj",
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
        **extra,
    }


class ExampleUri:
    """Hands out the random part of the RFC's example ``request_uri``."""

    def token(self, nbytes: int = 32) -> str:
        return VECTOR["par_response"]["request_uri"].removeprefix(REQUEST_URI_PREFIX)


async def example_server() -> Harness:
    """The RFC's client ``s6BhdRkqt3`` (RFC 6749's example secret) on a server offering its
    ``account-information`` scope."""
    ctx = make_ctx()
    api = "https://api.example.org"  # the API that defines the example's scope (RFC 8707)
    await add_api(
        ctx, identifier=api, scopes=[ApiScope(name=VECTOR["scope"], description="Your accounts")]
    )
    await ctx.stores.clients.add(
        Client(
            client_id=VECTOR["client_id"],
            client_name="RFC 9126 example",
            client_type=ClientType.CONFIDENTIAL,
            secret_hash=hash_client_secret(VECTOR["client_secret"], salt="salt"),
            redirect_uris=(VECTOR["redirect_uri"],),
            scopes=(VECTOR["scope"],),
            resources=(api,),
        )
    )
    return Harness(dataclasses.replace(ctx, random=ExampleUri()))


async def test_rfc9126_examples_push_then_authorize_once() -> None:
    harness = await example_server()
    body = parse_qsl(VECTOR["par_request"]["body"])
    reply = await pushed(harness, body, VECTOR["par_request"]["authorization"])
    expected = VECTOR["par_response"]
    assert reply.status == expected["status"] == 201
    assert reply.body == {"request_uri": expected["request_uri"], "expires_in": 60}
    assert ("Cache-Control", "no-store") in reply.headers

    session = await harness.session()
    sent = parse_qsl(VECTOR["authorization_request"])
    decision = await authorize(sent, ctx=harness.ctx, session=session, consent="approve")
    assert isinstance(decision, Redirect)
    assert decision.location.startswith(VECTOR["redirect_uri"] + "?")
    answer = query(decision)
    assert answer["state"] == "af0ifjsldkj" and answer["code"]

    again = await authorize(sent, ctx=harness.ctx, session=session, consent="approve")
    assert isinstance(again, ErrorPage) and again.error.error == "invalid_request"


async def test_rfc9126_error_example_a_bad_redirect_uri_is_invalid_request() -> None:
    """§2.3: what /authorize shows only as a page is ``invalid_request`` here, as JSON."""
    harness = await example_server()
    body = [
        (k, "https://attacker.example/cb" if k == "redirect_uri" else v)
        for k, v in parse_qsl(VECTOR["par_request"]["body"])
    ]
    reply = await pushed(harness, body, VECTOR["par_request"]["authorization"])
    assert reply.status == VECTOR["par_error"]["status"]
    assert reply.body["error"] == VECTOR["par_error"]["error"]
    assert ("Cache-Control", "no-store") in reply.headers


async def test_every_client_authentication_method_of_the_token_endpoint(harness: Harness) -> None:
    basic_client, basic_secret = await harness.client()
    post_client, post_secret = await harness.client(token_endpoint_auth_method="client_secret_post")
    public, _ = await harness.client(kind=ClientType.PUBLIC)
    assert basic_secret is not None and post_secret is not None
    # HTTP Basic, with client_id left out of the body: the server adds it to the request
    form = request_for(basic_client)
    del form["client_id"]
    by_basic = await pushed(harness, form, basic(basic_client.client_id, basic_secret))
    by_post = await pushed(harness, request_for(post_client, client_secret=post_secret), None)
    by_public = await pushed(harness, request_for(public), None)
    for reply in (by_basic, by_post, by_public):
        assert reply.status == 201, reply.body
        assert str(reply.body["request_uri"]).startswith(REQUEST_URI_PREFIX)


async def test_a_confidential_client_must_authenticate(harness: Harness) -> None:
    client, secret = await harness.client()
    assert secret is not None
    unauthenticated = await pushed(harness, request_for(client), None)
    assert unauthenticated.status == 401 and unauthenticated.body["error"] == "invalid_client"
    wrong = await pushed(harness, request_for(client), basic(client.client_id, "not-the-secret"))
    assert wrong.status == 401 and wrong.body["error"] == "invalid_client"
    assert ("WWW-Authenticate", 'Basic realm="tokenpath"') in wrong.headers


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"request_uri": REQUEST_URI_PREFIX + "x"}, "invalid_request"),  # §2.1
        ({"redirect_uri": "https://client.example/other"}, "invalid_request"),  # §2.3
        ({"scope": "openid admin"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"response_mode": "bogus"}, "invalid_request"),
        ({"client_id": "someone-else"}, "invalid_request"),  # not the Basic client
    ],
)
async def test_what_authorize_refuses_is_a_json_error(
    harness: Harness, change: dict[str, str], error: str
) -> None:
    client, secret = await harness.client()
    assert secret is not None
    reply = await pushed(harness, request_for(client, **change), basic(client.client_id, secret))
    assert (reply.status, reply.body["error"]) == (400, error)
    assert ("Cache-Control", "no-store") in reply.headers


async def test_a_repeated_parameter_is_refused(harness: Harness) -> None:
    client, secret = await harness.client()
    assert secret is not None
    form = [*request_for(client).items(), ("scope", "profile")]
    reply = await pushed(harness, form, basic(client.client_id, secret))
    assert (reply.status, reply.body["error"]) == (400, "invalid_request")
    assert "repeated" in str(reply.body["error_description"])


async def test_a_public_client_without_pkce_is_refused(harness: Harness) -> None:
    public, _ = await harness.client(kind=ClientType.PUBLIC)
    form = request_for(public)
    del form["code_challenge"], form["code_challenge_method"]
    reply = await pushed(harness, form, None)
    assert (reply.status, reply.body["error"]) == (400, "invalid_request")


async def test_expires_in_is_the_configured_lifetime() -> None:
    harness = Harness(make_ctx(pushed_request_lifetime=90))
    public, _ = await harness.client(kind=ClientType.PUBLIC)
    reply = await pushed(harness, request_for(public), None)
    assert reply.status == 201 and reply.body["expires_in"] == 90


async def test_a_client_that_must_push_can(harness: Harness) -> None:
    public, _ = await harness.client(
        kind=ClientType.PUBLIC, require_pushed_authorization_requests=True
    )
    reply = await pushed(harness, request_for(public), None)
    assert reply.status == 201, reply.body


# --- DPoP with the push (RFC 9449 §10.1) ------------------------------------------------------


async def push_with_proof(harness: Harness, client: Client, *proofs: str, **extra: str) -> Any:
    form = tuple(request_for(client, **extra).items())
    request = BackchannelRequest(form=form, dpop=proofs)
    return await push(request, ctx=harness.ctx)


async def test_a_proof_with_the_push_binds_the_code_to_its_key(harness: Harness) -> None:
    """The stored request gets dpop_jkt from the proof; only that key redeems the code."""
    client, _ = await harness.client(kind=ClientType.PUBLIC, redirect_uris=[CB])
    par_url = f"{harness.ctx.policy.issuer}/par"
    reply = await push_with_proof(
        harness, client, KEY_A.proof("POST", par_url, iat=harness.clock.now())
    )
    assert reply.status == 201, reply
    sent = [("client_id", client.client_id), ("request_uri", reply.body["request_uri"])]
    session = await harness.session()
    decision = await authorize(sent, ctx=harness.ctx, session=session, consent="approve")
    assert isinstance(decision, Redirect)
    form = redeem_form(query(decision)["code"], client_id=client.client_id)
    assert error_of(await post(harness, form, None, proof(harness, KEY_B))) == "invalid_grant"
    redeemed = await post(harness, form, None, proof(harness, KEY_A))
    assert redeemed.status == 200 and redeemed.body["token_type"] == "DPoP"


async def test_a_bad_proof_or_another_keys_dpop_jkt_at_par_is_refused(harness: Harness) -> None:
    client, _ = await harness.client(kind=ClientType.PUBLIC, redirect_uris=[CB])
    par_url = f"{harness.ctx.policy.issuer}/par"
    now = harness.clock.now()
    for_token = KEY_A.proof("POST", f"{harness.ctx.policy.issuer}/token", iat=now)
    wrong_url = await push_with_proof(harness, client, for_token)
    assert wrong_url.status == 400 and wrong_url.body["error"] == "invalid_dpop_proof"
    mismatch = await push_with_proof(
        harness, client, KEY_A.proof("POST", par_url, iat=now), dpop_jkt=KEY_B.jkt
    )
    assert mismatch.status == 400 and mismatch.body["error"] == "invalid_request"
    same = await push_with_proof(
        harness, client, KEY_A.proof("POST", par_url, iat=now), dpop_jkt=KEY_A.jkt
    )
    assert same.status == 201
    replayed = KEY_A.proof("POST", par_url, iat=now)
    assert (await push_with_proof(harness, client, replayed)).status == 201
    again = await push_with_proof(harness, client, replayed)
    assert again.status == 400 and again.body["error"] == "invalid_dpop_proof"


async def test_with_nonces_on_the_push_asks_for_one_and_hands_it_out() -> None:
    harness = Harness(make_ctx(require_dpop_nonce=True))
    client, _ = await harness.client(kind=ClientType.PUBLIC, redirect_uris=[CB])
    par_url = f"{harness.ctx.policy.issuer}/par"
    first = await push_with_proof(
        harness, client, KEY_A.proof("POST", par_url, iat=harness.clock.now())
    )
    assert first.status == 400 and first.body["error"] == "use_dpop_nonce"
    nonce = dict(first.headers)["DPoP-Nonce"]
    retry = KEY_A.proof("POST", par_url, iat=harness.clock.now(), nonce=nonce)
    second = await push_with_proof(harness, client, retry)
    assert second.status == 201 and dict(second.headers)["DPoP-Nonce"] == nonce
