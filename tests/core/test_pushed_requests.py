"""``/authorize`` with a pushed request (RFC 9126 §4, §5): taken once, short-lived, only by its
client and alone; the sign-in and consent steps go on under fresh single-use URIs; clients (or the
server) that require pushing refuse plain requests."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tests.core.conftest import CB, VERIFIER, Harness, basic, make_ctx, query
from tests.core.test_par import pushed, request_for
from tokenpath.core.authorize import authorize
from tokenpath.core.messages import ConsentPrompt, Decision, ErrorPage, LoginPrompt, Redirect
from tokenpath.core.pushed_requests import REQUEST_URI_PREFIX
from tokenpath.core.records import Client, ClientType, Session
from tokenpath.core.registration import update_client

pytestmark = pytest.mark.anyio


async def push_for(harness: Harness, client: Client, **extra: str) -> str:
    reply = await pushed(harness, request_for(client, **extra), None)
    assert reply.status == 201, reply.body
    return str(reply.body["request_uri"])


async def at_authorize(
    harness: Harness,
    pairs: Sequence[tuple[str, str]],
    session: Session | None,
    consent: str | None = None,
) -> Decision:
    return await authorize(pairs, ctx=harness.ctx, session=session, consent=consent)  # type: ignore[arg-type]


def refused(decision: Decision) -> str:
    """The error of an error page (never a redirect: the redirect URI is not known yet)."""
    assert isinstance(decision, ErrorPage), decision
    return decision.error.error


async def public_client(harness: Harness, **options: object) -> Client:
    client, _ = await harness.client(kind=ClientType.PUBLIC, **options)
    return client


async def test_sign_in_and_consent_go_on_under_fresh_uris_and_the_code_redeems(
    harness: Harness,
) -> None:
    client = await public_client(harness)
    uri = await push_for(harness, client)
    sent = [("client_id", client.client_id), ("request_uri", uri)]

    login = await at_authorize(harness, sent, None)
    assert isinstance(login, LoginPrompt) and login.resume is not None
    resumed = dict(login.resume)
    assert set(resumed) == {"client_id", "request_uri"}  # no parameter in the next URL
    assert resumed["request_uri"].startswith(REQUEST_URI_PREFIX) and resumed["request_uri"] != uri
    assert refused(await at_authorize(harness, sent, None)) == "invalid_request"  # taken once

    session = await harness.session()
    consent = await at_authorize(harness, login.resume, session)
    assert isinstance(consent, ConsentPrompt) and consent.resume is not None
    assert set(dict(consent.resume)) == {"client_id", "request_uri"}
    assert dict(consent.resume)["request_uri"] != resumed["request_uri"]

    done = await at_authorize(harness, consent.resume, session, consent="approve")
    assert isinstance(done, Redirect) and done.location.startswith(CB + "?")
    answer = query(done)
    assert answer["state"] == "af0ifjsldkj"
    form = {
        "grant_type": "authorization_code",
        "code": answer["code"],
        "redirect_uri": CB,
        "code_verifier": VERIFIER,
        "client_id": client.client_id,
    }
    tokens = await harness.token(form)
    assert tokens.status == 200 and tokens.body["token_type"] == "Bearer"
    # the consent step's URI is spent too
    again = await at_authorize(harness, consent.resume, session, consent="approve")
    assert refused(again) == "invalid_request"


async def test_an_expired_request_uri_is_refused() -> None:
    harness = Harness(make_ctx(pushed_request_lifetime=30))
    client = await public_client(harness)
    session = await harness.session()
    first, second = await push_for(harness, client), await push_for(harness, client)
    harness.clock.advance(29)
    kept = await at_authorize(
        harness, [("client_id", client.client_id), ("request_uri", first)], session, "approve"
    )
    assert isinstance(kept, Redirect)
    harness.clock.advance(1)
    late = [("client_id", client.client_id), ("request_uri", second)]
    assert refused(await at_authorize(harness, late, session, "approve")) == "invalid_request"


async def test_a_step_uri_lives_the_step_lifetime() -> None:
    harness = Harness(make_ctx(pushed_request_step_lifetime=120))
    client = await public_client(harness)
    uri = await push_for(harness, client)
    login = await at_authorize(
        harness, [("client_id", client.client_id), ("request_uri", uri)], None
    )
    assert isinstance(login, LoginPrompt) and login.resume is not None
    session = await harness.session()
    harness.clock.advance(120)
    assert refused(await at_authorize(harness, login.resume, session)) == "invalid_request"


async def test_another_clients_request_uri_is_refused_and_not_spent(harness: Harness) -> None:
    owner, other = await public_client(harness), await public_client(harness)
    uri = await push_for(harness, owner)
    session = await harness.session()
    stolen = [("client_id", other.client_id), ("request_uri", uri)]
    assert refused(await at_authorize(harness, stolen, session, "approve")) == "invalid_request"
    own = [("client_id", owner.client_id), ("request_uri", uri)]
    assert isinstance(await at_authorize(harness, own, session, "approve"), Redirect)


@pytest.mark.parametrize(
    "request_uri",
    [REQUEST_URI_PREFIX + "unknown", "https://client.example/request.jwt", "urn:other:x"],
)
async def test_an_unknown_or_foreign_request_uri_is_refused(
    harness: Harness, request_uri: str
) -> None:
    client = await public_client(harness)
    sent = [("client_id", client.client_id), ("request_uri", request_uri)]
    assert refused(await at_authorize(harness, sent, None)) == "invalid_request"


@pytest.mark.parametrize(
    "extra",
    [
        [("scope", "openid profile")],
        [("redirect_uri", CB)],
        [("state", "other")],
        [("response_type", "code"), ("code_challenge", "x" * 43)],
    ],
)
async def test_parameters_beside_request_uri_are_refused_and_it_stays_usable(
    harness: Harness, extra: list[tuple[str, str]]
) -> None:
    client = await public_client(harness)
    uri = await push_for(harness, client)
    session = await harness.session()
    mixed = [("client_id", client.client_id), ("request_uri", uri), *extra]
    assert refused(await at_authorize(harness, mixed, session, "approve")) == "invalid_request"
    alone = [("client_id", client.client_id), ("request_uri", uri)]
    assert isinstance(await at_authorize(harness, alone, session, "approve"), Redirect)


async def test_request_uri_without_client_id_or_twice_is_refused(harness: Harness) -> None:
    client = await public_client(harness)
    uri = await push_for(harness, client)
    assert refused(await at_authorize(harness, [("request_uri", uri)], None)) == "invalid_request"
    twice = [("client_id", client.client_id), ("request_uri", uri), ("request_uri", uri)]
    assert refused(await at_authorize(harness, twice, None)) == "invalid_request"


async def test_a_client_that_must_push_gets_its_plain_request_back_as_an_error(
    harness: Harness,
) -> None:
    client = await public_client(harness, require_pushed_authorization_requests=True)
    session = await harness.session()
    plain = await at_authorize(harness, list(request_for(client).items()), session, "approve")
    assert isinstance(plain, Redirect) and plain.location.startswith(CB + "?")
    answer = query(plain)
    assert answer["error"] == "invalid_request" and answer["state"] == "af0ifjsldkj"
    assert answer["iss"] == harness.ctx.policy.issuer
    uri = await push_for(harness, client)
    via_par = [("client_id", client.client_id), ("request_uri", uri)]
    done = await at_authorize(harness, via_par, session, "approve")
    assert isinstance(done, Redirect) and "code" in query(done)


async def test_the_server_setting_requires_every_client_to_push() -> None:
    harness = Harness(make_ctx(require_pushed_authorization_requests=True))
    confidential, secret = await harness.client()
    assert secret is not None
    session = await harness.session()
    plain = await at_authorize(harness, list(request_for(confidential).items()), session, "approve")
    assert isinstance(plain, Redirect) and query(plain)["error"] == "invalid_request"
    reply = await pushed(harness, request_for(confidential), basic(confidential.client_id, secret))
    sent = [("client_id", confidential.client_id), ("request_uri", str(reply.body["request_uri"]))]
    done = await at_authorize(harness, sent, session, "approve")
    assert isinstance(done, Redirect) and "code" in query(done)


async def test_the_request_is_checked_again_when_it_is_taken(harness: Harness) -> None:
    """A later error is sent to the pushed redirect URI with the pushed ``state``."""
    client = await public_client(harness)
    uri = await push_for(harness, client, scope="openid profile")
    await update_client(ctx=harness.ctx, client_id=client.client_id, scopes=["openid"])
    session = await harness.session()
    sent = [("client_id", client.client_id), ("request_uri", uri)]
    decision = await at_authorize(harness, sent, session, "approve")
    assert isinstance(decision, Redirect)
    assert query(decision)["error"] == "invalid_scope"
    assert query(decision)["state"] == "af0ifjsldkj"


async def test_a_pushed_prompt_login_asks_once(harness: Harness) -> None:
    """The sign-in step's request no longer holds ``prompt=login``: signing in satisfied it."""
    client = await public_client(harness)
    uri = await push_for(harness, client, prompt="login")
    session = await harness.session()
    login = await at_authorize(
        harness, [("client_id", client.client_id), ("request_uri", uri)], session
    )
    assert isinstance(login, LoginPrompt) and login.resume is not None
    after = await at_authorize(harness, login.resume, session, "approve")
    assert isinstance(after, Redirect) and "code" in query(after)
