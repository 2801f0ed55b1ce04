"""RP-Initiated Logout 1.0 requests and Back-Channel Logout 1.0 tokens, as plain core calls."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from tests.core.conftest import ISSUER, Harness
from tokenpath.core.errors import InvalidRequest
from tokenpath.core.logout import (
    BACKCHANNEL_LOGOUT_EVENT,
    LOGOUT_TOKEN_LIFETIME,
    LogoutRequest,
    after_logout,
    end_session,
    logout_request,
)
from tokenpath.core.messages import ErrorPage, Redirect
from tokenpath.core.records import Client, Grant, Session
from tokenpath.core.subjects import subject_for

pytestmark = pytest.mark.anyio

BYE = "https://client.example/bye"
BACKCHANNEL = "https://client.example/backchannel"


async def logout_client(h: Harness, **changes: Any) -> Client:
    client, _ = await h.client()
    changes = {
        "post_logout_redirect_uris": (BYE, "https://client.example/bye?x=1"),
        "backchannel_logout_uri": BACKCHANNEL,
        **changes,
    }
    client = dataclasses.replace(client, **changes)
    await h.ctx.stores.clients.update(client)
    return client


async def id_token(h: Harness, client: Client, **changes: Any) -> str:
    now = h.clock.now()
    claims = {
        "iss": ISSUER,
        "sub": "user-1",
        "aud": client.client_id,
        "iat": now,
        "exp": now + 300,
        "sid": "sid-1",
        **changes,
    }
    typ = claims.pop("typ", "JWT")
    return await h.ctx.signer.sign({k: v for k, v in claims.items() if v is not None}, typ=typ)


async def checked(h: Harness, **params: str) -> LogoutRequest:
    result = await logout_request(list(params.items()), ctx=h.ctx)
    assert isinstance(result, LogoutRequest), result
    return result


async def refused(h: Harness, pairs: list[tuple[str, str]]) -> str:
    result = await logout_request(pairs, ctx=h.ctx)
    assert isinstance(result, ErrorPage), result
    assert isinstance(result.error, InvalidRequest) and result.status == 400
    return result.error.description


# --- the logout request -----------------------------------------------------------------------


async def test_a_plain_logout_names_no_client_and_goes_nowhere(harness: Harness) -> None:
    request = await checked(harness)
    assert request.client is None and after_logout(request) is None


async def test_the_hint_identifies_the_client_and_its_uri_is_followed_with_state(
    harness: Harness,
) -> None:
    client = await logout_client(harness)
    hint = await id_token(harness, client)
    request = await checked(harness, id_token_hint=hint, post_logout_redirect_uri=BYE, state="s 1")
    assert request.client == client and request.hint_sid == "sid-1"
    assert request.hint_sub == "user-1"
    assert after_logout(request) == Redirect(location=f"{BYE}?state=s+1")


async def test_a_registered_uri_with_a_query_keeps_it(harness: Harness) -> None:
    client = await logout_client(harness)
    request = await checked(
        harness,
        client_id=client.client_id,
        post_logout_redirect_uri="https://client.example/bye?x=1",
        state="st",
    )
    assert after_logout(request) == Redirect(location="https://client.example/bye?x=1&state=st")
    without_state = await checked(harness, client_id=client.client_id, post_logout_redirect_uri=BYE)
    assert after_logout(without_state) == Redirect(location=BYE)


async def test_an_expired_hint_is_still_a_hint(harness: Harness) -> None:
    client = await logout_client(harness)
    hint = await id_token(harness, client, exp=harness.clock.now() - 3600)
    harness.clock.advance(86_400)
    request = await checked(harness, id_token_hint=hint, post_logout_redirect_uri=BYE)
    assert request.post_logout_redirect_uri == BYE


@pytest.mark.parametrize(
    "uri",
    [
        "https://evil.example/bye",
        "https://client.example/bye/",
        "https://client.example/BYE",
        "https://client.example/bye?x=2",
        "https://client.example/cb",  # a redirect_uri is not a post-logout URI
    ],
)
async def test_only_an_exactly_registered_uri_is_followed(harness: Harness, uri: str) -> None:
    client = await logout_client(harness)
    hint = await id_token(harness, client)
    request = await checked(harness, id_token_hint=hint, post_logout_redirect_uri=uri)
    assert request.redirect_refused and after_logout(request) is None


async def test_a_uri_without_an_identified_client_is_not_followed(harness: Harness) -> None:
    await logout_client(harness)
    request = await checked(harness, post_logout_redirect_uri=BYE, state="s")
    assert request.redirect_refused and after_logout(request) is None


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"iss": "https://other.example"}, "not an ID token issued by this server"),
        ({"typ": "at+jwt"}, "not an ID token issued by this server"),
        ({"typ": "logout+jwt"}, "not an ID token issued by this server"),
        ({"aud": ["a", "b"]}, "names no single client"),
        ({"aud": None}, "names no single client"),
    ],
)
async def test_a_hint_that_is_not_our_id_token_is_an_error_page(
    harness: Harness, changes: dict[str, Any], why: str
) -> None:
    client = await logout_client(harness)
    hint = await id_token(harness, client, **changes)
    pairs = [("id_token_hint", hint), ("post_logout_redirect_uri", BYE)]
    assert why in await refused(harness, pairs)


async def test_a_hint_signed_by_another_key_is_an_error_page(harness: Harness) -> None:
    client = await logout_client(harness)
    key = ECKey.generate_key("P-256", private=True)
    claims = {"iss": ISSUER, "aud": client.client_id, "sub": "u", "iat": 1, "exp": 2}
    forged = jwt.encode({"alg": "ES256", "typ": "JWT"}, claims, KeySet([key]))
    assert "not an ID token" in await refused(harness, [("id_token_hint", forged)])
    assert "not an ID token" in await refused(harness, [("id_token_hint", "x.y.z")])


async def test_an_azp_picks_the_client_among_several_audiences(harness: Harness) -> None:
    client = await logout_client(harness)
    hint = await id_token(harness, client, aud=[client.client_id, "api"], azp=client.client_id)
    assert (await checked(harness, id_token_hint=hint)).client == client


async def test_a_client_id_that_disagrees_with_the_hint_is_an_error_page(harness: Harness) -> None:
    client = await logout_client(harness)
    other = await logout_client(harness)
    hint = await id_token(harness, client)
    pairs = [("id_token_hint", hint), ("client_id", other.client_id)]
    assert "client_id is not the audience" in await refused(harness, pairs)
    agreeing = await checked(harness, id_token_hint=hint, client_id=client.client_id)
    assert agreeing.client == client


async def test_an_unknown_client_is_an_error_page(harness: Harness) -> None:
    assert "not registered" in await refused(harness, [("client_id", "nobody")])


async def test_repeated_or_oversized_parameters_are_error_pages(harness: Harness) -> None:
    assert "repeated" in await refused(harness, [("state", "a"), ("state", "b")])
    long_state = "s" * (harness.ctx.policy.max_param_length + 1)
    assert "too long" in await refused(harness, [("state", long_state)])


async def test_only_logout_parameters_are_carried_through_the_confirmation(
    harness: Harness,
) -> None:
    request = await logout_request(
        [("state", "s"), ("csrf", "x"), ("ui_locales", "de"), ("logout_hint", "alice")],
        ctx=harness.ctx,
    )
    assert isinstance(request, LogoutRequest)
    assert request.parameters == (("logout_hint", "alice"), ("state", "s"), ("ui_locales", "de"))


# --- ending the session: logout tokens --------------------------------------------------------


async def grant(h: Harness, client: Client, session: Session, grant_id: str) -> None:
    await h.ctx.stores.grants.add(
        Grant(
            grant_id=grant_id,
            client_id=client.client_id,
            user_id=session.user_id,
            scope=("openid",),
            created_at=h.clock.now(),
            sid=session.sid,
        )
    )


async def verified(h: Harness, token: str) -> dict[str, Any]:
    claims = await h.ctx.signer.verify(token, typ="logout+jwt")
    assert claims is not None
    return claims


async def test_ending_a_session_deletes_it_and_tells_each_client_once(harness: Harness) -> None:
    session = await harness.session()
    notified = await logout_client(harness)
    silent = await logout_client(harness, backchannel_logout_uri=None)
    for number, client in enumerate([notified, notified, silent]):
        await grant(harness, client, session, f"g{number}")
    other_session = dataclasses.replace(session, sid="another", session_hash="h2")
    await grant(harness, notified, other_session, "elsewhere")

    deliveries = await end_session(session, ctx=harness.ctx)

    assert await harness.ctx.stores.sessions.get(session.session_hash, harness.clock.now()) is None
    assert [(d.client_id, d.uri) for d in deliveries] == [(notified.client_id, BACKCHANNEL)]
    claims = await verified(harness, deliveries[0].logout_token)
    now = harness.clock.now()
    assert claims == {
        "iss": ISSUER,
        "aud": notified.client_id,
        "iat": now,
        "exp": now + LOGOUT_TOKEN_LIFETIME,
        "jti": claims["jti"],
        "sub": session.user_id,
        "sid": session.sid,
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
    }
    assert LOGOUT_TOKEN_LIFETIME <= 120 and len(claims["jti"]) >= 16
    assert await harness.ctx.signer.verify(deliveries[0].logout_token) is None  # not an at+jwt


async def test_a_pairwise_client_gets_its_own_sub(harness: Harness) -> None:
    harness.ctx = dataclasses.replace(
        harness.ctx, policy=dataclasses.replace(harness.ctx.policy, pairwise_salt="salt")
    )
    session = await harness.session()
    client = await logout_client(harness, subject_type="pairwise")
    await grant(harness, client, session, "g")
    (delivery,) = await end_session(session, ctx=harness.ctx)
    claims = await verified(harness, delivery.logout_token)
    assert claims["sub"] == subject_for(session.user_id, client, harness.ctx.policy)
    assert claims["sub"] != session.user_id


async def test_every_logout_token_has_its_own_jti(harness: Harness) -> None:
    client = await logout_client(harness)
    jtis = set()
    for name in ("alice", "bob"):
        session = await harness.session(name)
        await grant(harness, client, session, f"g-{name}")
        (delivery,) = await end_session(session, ctx=harness.ctx)
        jtis.add((await verified(harness, delivery.logout_token))["jti"])
    assert len(jtis) == 2


async def test_no_session_means_nothing_to_end(harness: Harness) -> None:
    assert await end_session(None, ctx=harness.ctx) == ()
