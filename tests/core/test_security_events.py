"""Every attack signal leaves exactly one security event, and no event carries a secret.

The events are the ones the security review found missing: guessed passwords, throttle trips,
failed client authentication (with a 12 KB client id), a replayed client assertion, a replayed
code and a reused refresh token.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from tests.core.conftest import ISSUER, Harness, basic
from tests.core.grants.support import CODE_AND_REFRESH, confidential, redeem_form
from tokenpath.core.client_assertion import ASSERTION_TYPE
from tokenpath.core.errors import InvalidRequest
from tokenpath.core.events import Event, EventName, ListEventSink, hash_username
from tokenpath.core.login import login
from tokenpath.core.records import GrantType
from tokenpath.core.registration import InvalidClientMetadata, create_user

pytestmark = pytest.mark.anyio


@pytest.fixture
def events(harness: Harness) -> ListEventSink:
    sink = ListEventSink()
    harness.ctx = replace(harness.ctx, events=sink)
    return sink


def serialised(events: list[Event]) -> str:
    return json.dumps([e.fields() for e in events])


async def test_failed_and_throttled_sign_ins(harness: Harness, events: ListEventSink) -> None:
    await create_user(ctx=harness.ctx, username="alice", password="correct horse")
    limit = harness.ctx.policy.login_failures_per_minute
    for n in range(limit):
        await login("alice", f"secret-guess-{n}", ctx=harness.ctx, address="192.0.2.9")
    await login("alice", "secret-guess-last", ctx=harness.ctx, address="192.0.2.9")
    await login("Not-A-User", "secret-guess-x", ctx=harness.ctx)
    failed = events.named(EventName.LOGIN_FAILED)
    assert len(failed) == limit + 1 and len(events.named(EventName.LOGIN_THROTTLED)) == 1
    user = await harness.ctx.stores.users.get_by_username("alice")
    assert user is not None
    assert failed[0].user_id == user.user_id and failed[0].source == "192.0.2.9"
    assert failed[-1].user_id is None and failed[-1].username_hash == hash_username("not-a-user")
    text = serialised(events.events)
    assert "secret-guess" not in text and "Not-A-User" not in text


async def test_failed_client_authentication_with_a_huge_client_id(
    harness: Harness, events: ListEventSink
) -> None:
    huge = "x" * 12 * 1024
    credentials = base64.b64encode(f"{huge}:the-secret".encode()).decode()
    response = await harness.token({"grant_type": "client_credentials"}, f"Basic {credentials}")
    assert response.status == 401
    (event,) = events.named(EventName.CLIENT_AUTH_FAILED)
    assert event.client_id is not None and len(event.client_id) < 200
    assert event.detail == "unknown client" and "the-secret" not in serialised(events.events)


async def test_client_auth_throttle_trip(harness: Harness, events: ListEventSink) -> None:
    client, _ = await harness.client(grant_types=[GrantType.CLIENT_CREDENTIALS], redirect_uris=[])
    limit = harness.ctx.policy.client_auth_failures_per_minute
    for _ in range(limit + 1):
        await harness.token({"grant_type": "client_credentials"}, basic(client.client_id, "bad"))
    assert len(events.named(EventName.CLIENT_AUTH_FAILED)) == limit
    (tripped,) = events.named(EventName.CLIENT_AUTH_THROTTLED)
    assert tripped.client_id == client.client_id and tripped.outcome == "throttled"


async def test_replayed_client_assertion(harness: Harness, events: ListEventSink) -> None:
    key = ECKey.generate_key("P-256", private=True)
    client, _ = await harness.client(
        grant_types=[GrantType.CLIENT_CREDENTIALS],
        redirect_uris=[],
        jwks=json.dumps({"keys": [key.as_dict(private=False)]}),
    )
    now = harness.clock.now()
    claims = {"iss": client.client_id, "sub": client.client_id, "aud": ISSUER}
    assertion = jwt.encode({"alg": "ES256"}, {**claims, "exp": now + 60, "jti": "once"}, key)
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }
    assert (await harness.token(form)).status == 200
    assert (await harness.token(form)).status == 401
    (replayed,) = events.named(EventName.CLIENT_ASSERTION_REPLAYED)
    assert replayed.client_id == client.client_id
    assert assertion not in serialised(events.events)


async def test_replayed_code_revokes_and_is_reported(
    harness: Harness, events: ListEventSink
) -> None:
    client_id, secret, code = await confidential(harness)
    assert (await harness.token(redeem_form(code), basic(client_id, secret))).status == 200
    assert (await harness.token(redeem_form(code), basic(client_id, secret))).status == 400
    (replayed,) = events.named(EventName.CODE_REPLAYED)
    assert replayed.client_id == client_id and replayed.grant_id and replayed.outcome == "revoked"
    assert code not in serialised(events.events)


async def test_reused_refresh_token_is_reported(harness: Harness, events: ListEventSink) -> None:
    client, secret = await harness.client(grant_types=CODE_AND_REFRESH)
    assert secret is not None
    first = await harness.redeem(client, secret, await harness.session())
    old = str(first.body["refresh_token"])
    form = {"grant_type": "refresh_token", "refresh_token": old}
    assert (await harness.token(form, basic(client.client_id, secret))).status == 200
    assert (await harness.token(form, basic(client.client_id, secret))).status == 400
    (reused,) = events.named(EventName.REFRESH_TOKEN_REUSED)
    assert reused.client_id == client.client_id and reused.grant_id
    assert old not in serialised(events.events)


async def test_a_stolen_code_or_refresh_token_gets_the_words_of_an_unknown_one(
    harness: Harness,
) -> None:
    """invalid_grant does not tell a thief that the code or token is live for another client."""
    _, _, code = await confidential(harness)
    thief, thief_secret = await harness.client()
    assert thief_secret is not None
    stolen = await harness.token(redeem_form(code), basic(thief.client_id, thief_secret))
    unknown = await harness.token(redeem_form("x" * 43), basic(thief.client_id, thief_secret))
    assert stolen.body == unknown.body and stolen.body["error"] == "invalid_grant"
    assert "another client" not in json.dumps(stolen.body)


async def test_admin_changes_name_the_action_and_never_a_secret(
    harness: Harness, events: ListEventSink
) -> None:
    from tokenpath.core.registration import update_client

    client, secret = await harness.client()
    await update_client(ctx=harness.ctx, client_id=client.client_id, name="Renamed")
    user = await create_user(ctx=harness.ctx, username="alice", password="correct horse")
    changes = events.named(EventName.ADMIN_CHANGE)
    assert [dict(e.extra)["action"] for e in changes] == ["client.add", "client.update", "user.add"]
    assert all(e.outcome == "changed" for e in changes)
    assert [(e.client_id, e.user_id) for e in changes] == [
        (client.client_id, None),
        (client.client_id, None),
        (None, user.user_id),
    ]
    assert changes[2].fields()["action"] == "user.add"
    text = serialised(events.events)
    assert secret is not None and secret not in text and "correct horse" not in text
    assert client.secret_hash is not None and client.secret_hash not in text
    assert user.password_hash not in text


async def test_a_refused_change_is_no_admin_change(harness: Harness, events: ListEventSink) -> None:
    with pytest.raises(InvalidRequest):
        await create_user(ctx=harness.ctx, username="alice", password="short")
    with pytest.raises(InvalidClientMetadata):
        await harness.client(scopes="admin")
    assert events.named(EventName.ADMIN_CHANGE) == []
