"""The UserInfo endpoint (OIDC Core §5.3) with RFC 6750 token presentation and challenges."""

from __future__ import annotations

import dataclasses

import pytest

from tests.core.conftest import Harness, basic, make_ctx
from tokenpath.core.messages import BackchannelRequest, JsonResponse
from tokenpath.core.records import Client, GrantType
from tokenpath.core.registration import update_user_claims
from tokenpath.core.revocation import revoke
from tokenpath.core.subjects import subject_for
from tokenpath.core.userinfo import UserinfoRequest, userinfo

pytestmark = pytest.mark.anyio

CLAIMS: dict[str, object | None] = {
    "name": "Alice Liddell",
    "locale": "en-GB",
    "email": "alice@example.com",
    "email_verified": True,
    "phone_number": "+441865000000",
}
BARE = 'Bearer realm="tokenpath"'


async def signed_in(
    harness: Harness, scopes: str = "openid profile email", **options: object
) -> tuple[Client, str, dict[str, object], str]:
    """A client, its secret, the token response, and the user id behind it."""
    grants = (GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN)
    client, secret = await harness.client(scopes=scopes, grant_types=grants, **options)
    assert secret is not None
    session = await harness.session()
    await update_user_claims(harness.ctx, "alice", CLAIMS)
    response = await harness.redeem(client, secret, session)
    assert response.status == 200, response.body
    return client, secret, dict(response.body), session.user_id


async def ask(harness: Harness, *authorization: str, **form: str) -> JsonResponse:
    request = UserinfoRequest(authorization=authorization, form=tuple(form.items()))
    return await userinfo(request, ctx=harness.ctx)


def header(response: JsonResponse) -> str:
    return dict(response.headers)["WWW-Authenticate"]


def assert_invalid_token(response: JsonResponse) -> None:
    assert response.status == 401 and response.body["error"] == "invalid_token"
    assert header(response).startswith('Bearer realm="tokenpath", error="invalid_token"')
    assert ("Cache-Control", "no-store") in response.headers


@pytest.mark.parametrize("fmt", ["jwt", "opaque"])
async def test_userinfo_answers_sub_and_the_claims_the_scopes_release(
    harness: Harness, fmt: str
) -> None:
    _, _, tokens, user_id = await signed_in(harness, access_token_format=fmt)
    response = await ask(harness, f"Bearer {tokens['access_token']}")
    assert response.status == 200
    assert response.body == {
        "sub": user_id,
        "name": "Alice Liddell",
        "locale": "en-GB",
        "email": "alice@example.com",
        "email_verified": True,
    }  # no phone_number: the phone scope was not granted
    assert ("Cache-Control", "no-store") in response.headers
    assert "WWW-Authenticate" not in dict(response.headers)


async def test_openid_alone_releases_only_sub(harness: Harness) -> None:
    _, _, tokens, user_id = await signed_in(harness, scopes="openid notes:read")
    response = await ask(harness, f"bearer {tokens['access_token']}")  # scheme: any case
    assert response.status == 200 and response.body == {"sub": user_id}


async def test_the_token_may_come_in_the_form_body(harness: Harness) -> None:
    _, _, tokens, user_id = await signed_in(harness)
    response = await ask(harness, access_token=str(tokens["access_token"]))
    assert response.status == 200 and response.body["sub"] == user_id
    basic_and_form = await ask(harness, "Basic eDp5", access_token=str(tokens["access_token"]))
    assert basic_and_form.status == 200


async def test_pairwise_clients_see_their_own_sub() -> None:
    harness = Harness(make_ctx(pairwise_salt="pepper"))
    client, _, tokens, user_id = await signed_in(harness)
    pairwise = dataclasses.replace(client, subject_type="pairwise")
    await harness.ctx.stores.clients.update(pairwise)
    response = await ask(harness, f"Bearer {tokens['access_token']}")
    assert response.status == 200
    assert response.body["sub"] == subject_for(user_id, pairwise, harness.ctx.policy) != user_id


async def test_no_token_is_a_bare_challenge(harness: Harness) -> None:
    for authorization in ((), ("Basic eDp5",)):
        response = await ask(harness, *authorization)
        assert response.status == 401 and header(response) == BARE
        assert "error" not in response.body


async def test_query_token_is_refused_and_counts_as_no_token(harness: Harness) -> None:
    _, _, tokens, _ = await signed_in(harness)
    request = UserinfoRequest(query_token=True)
    response = await userinfo(request, ctx=harness.ctx)
    assert response.status == 401 and response.body["error"] == "invalid_request"
    assert header(response).startswith(BARE + ', error="invalid_request"')
    both = UserinfoRequest(authorization=(f"Bearer {tokens['access_token']}",), query_token=True)
    twice = await userinfo(both, ctx=harness.ctx)
    assert twice.status == 400 and "one way only" in header(twice)


@pytest.mark.parametrize(
    ("authorization", "form", "reason"),
    [
        (("Bearer a",), {"access_token": "a"}, "one way only"),
        (("Bearer a", "Bearer a"), {}, "one Authorization header"),
        (("Bearer a b",), {}, "Bearer and one token"),
        (("Bearer ",), {}, "Bearer and one token"),
        (('Bearer a"b',), {}, "Bearer and one token"),
        ((), {"access_token": "a\x00"}, "control characters"),
    ],
)
async def test_malformed_requests_are_400_invalid_request(
    harness: Harness, authorization: tuple[str, ...], form: dict[str, str], reason: str
) -> None:
    response = await ask(harness, *authorization, **form)
    assert response.status == 400 and response.body["error"] == "invalid_request"
    assert header(response).startswith(BARE + ', error="invalid_request", error_description="')
    assert reason in header(response)


async def test_a_repeated_form_token_is_invalid_request(harness: Harness) -> None:
    form = (("access_token", "a"), ("access_token", "b"))
    response = await userinfo(UserinfoRequest(form=form), ctx=harness.ctx)
    assert response.status == 400 and "repeated" in str(response.body["error_description"])


async def test_unknown_expired_and_revoked_tokens_are_invalid_token(harness: Harness) -> None:
    client, secret, tokens, _ = await signed_in(harness)
    access = str(tokens["access_token"])
    assert_invalid_token(await ask(harness, "Bearer not-a-token"))
    assert_invalid_token(await ask(harness, f"Bearer {access[:-4]}AAAA"))  # bad signature
    assert_invalid_token(await ask(harness, f"Bearer {tokens['refresh_token']}"))
    form = (("token", access),)
    revoked = await revoke(
        BackchannelRequest(form=form, authorization=basic(client.client_id, secret)),
        ctx=harness.ctx,
    )
    assert revoked.status == 200
    assert_invalid_token(await ask(harness, f"Bearer {access}"))


async def test_expired_token_and_revoked_grant_are_invalid_token(harness: Harness) -> None:
    _, _, tokens, _ = await signed_in(harness, access_token_format="opaque")
    access = f"Bearer {tokens['access_token']}"
    assert (await ask(harness, access)).status == 200
    harness.clock.advance(3600)
    assert_invalid_token(await ask(harness, access))

    other = Harness(make_ctx())
    _, _, tokens, _ = await signed_in(other)
    record = await other.ctx.signer.verify(str(tokens["access_token"]))
    assert record is not None
    await other.ctx.stores.grants.revoke(str(record["grant_id"]), other.clock.now())
    assert_invalid_token(await ask(other, f"Bearer {tokens['access_token']}"))


async def test_client_credentials_tokens_have_no_user(harness: Harness) -> None:
    client, secret = await harness.client(
        redirect_uris=(), scopes="openid notes:read", grant_types=(GrantType.CLIENT_CREDENTIALS,)
    )
    assert secret is not None
    response = await harness.token(
        {"grant_type": "client_credentials", "scope": "openid notes:read"},
        basic(client.client_id, secret),
    )
    assert response.status == 200, response.body
    assert_invalid_token(await ask(harness, f"Bearer {response.body['access_token']}"))


async def test_a_token_without_openid_is_insufficient_scope(harness: Harness) -> None:
    _, _, tokens, _ = await signed_in(harness, scopes="profile notes:read")
    response = await ask(harness, f"Bearer {tokens['access_token']}")
    assert response.status == 403 and response.body["error"] == "insufficient_scope"
    assert response.body["scope"] == "openid"
    assert header(response) == (
        'Bearer realm="tokenpath", error="insufficient_scope", '
        'error_description="userinfo needs a token with the openid scope", scope="openid"'
    )
