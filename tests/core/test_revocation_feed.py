"""The revocation feed (``core/revocation_feed.py``): what is written, who may read it, cursors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.core.conftest import AUDIENCE, Harness, basic
from tests.support.apis import api_credentials
from tokenpath.core.apis import add_api
from tokenpath.core.messages import BackchannelRequest, JsonResponse
from tokenpath.core.records import ApiScope, GrantType
from tokenpath.core.revocation import revoke
from tokenpath.core.revocation_feed import POLL_INTERVAL, SETTLE, revocation_feed

pytestmark = pytest.mark.anyio
CODE_AND_REFRESH = [GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN]


async def feed(harness: Harness, auth: str | None, *query: tuple[str, str]) -> JsonResponse:
    request = BackchannelRequest(form=query, authorization=auth)
    return await revocation_feed(request, ctx=harness.ctx)


async def issued(harness: Harness) -> tuple[str, str, dict[str, Any]]:
    client, secret = await harness.client(grant_types=CODE_AND_REFRESH)
    assert secret is not None
    response = await harness.redeem(client, secret, await harness.session())
    assert response.status == 200
    return client.client_id, secret, dict(response.body)


async def revoke_token(harness: Harness, client_id: str, secret: str, token: str) -> None:
    form = (("token", token),)
    answer = await revoke(
        BackchannelRequest(form=form, authorization=basic(client_id, secret)), ctx=harness.ctx
    )
    assert answer.status == 200


async def test_a_revoked_jwt_and_grant_appear_and_the_cursor_moves_on(harness: Harness) -> None:
    api = basic(*await api_credentials(harness.ctx))
    empty = await feed(harness, api)
    assert empty.status == 200 and empty.body["revoked"] == []
    assert empty.body["poll_interval"] == POLL_INTERVAL
    assert ("Cache-Control", "no-store") in empty.headers
    client_id, secret, body = await issued(harness)
    claims = await harness.ctx.signer.verify(str(body["access_token"]))
    assert claims is not None
    await revoke_token(harness, client_id, secret, str(body["access_token"]))
    jti_entry = {"jti": claims["jti"], "exp": claims["exp"]}
    fresh = await feed(harness, api, ("since", str(empty.body["cursor"])))
    assert fresh.body["revoked"] == [jti_entry]
    assert fresh.body["cursor"] == empty.body["cursor"]  # not settled yet: it comes again
    harness.clock.advance(SETTLE + 1)
    first = await feed(harness, api, ("since", str(empty.body["cursor"])))
    assert first.body["revoked"] == [jti_entry] and first.body["cursor"] != empty.body["cursor"]
    await revoke_token(harness, client_id, secret, str(body["refresh_token"]))
    now = harness.clock.now()
    harness.clock.advance(SETTLE + 1)
    second = await feed(harness, api, ("since", str(first.body["cursor"])))
    lifetime = harness.ctx.policy.access_token_lifetime
    assert second.body["revoked"] == [{"grant_id": claims["grant_id"], "exp": now + lifetime}]
    again = await feed(harness, api, ("since", str(second.body["cursor"])))
    assert again.body["revoked"] == []
    everything = await feed(harness, api)  # no cursor: every live entry
    assert len(everything.body["revoked"]) == 2  # type: ignore[arg-type]
    harness.clock.advance(lifetime - SETTLE)  # both entries have outlived every token they name
    assert (await feed(harness, api)).body["revoked"] == []


async def test_refresh_reuse_writes_the_grant(harness: Harness) -> None:
    client_id, secret, body = await issued(harness)
    auth = basic(client_id, secret)
    form = {"grant_type": "refresh_token", "refresh_token": str(body["refresh_token"])}
    assert (await harness.token(form, auth)).status == 200
    assert (await harness.token(form, auth)).body["error"] == "invalid_grant"  # reuse
    entries = (await feed(harness, basic(*await api_credentials(harness.ctx)))).body["revoked"]
    assert [set(e) for e in entries] == [{"grant_id", "exp"}]  # type: ignore[union-attr]


async def test_each_api_sees_only_its_own_entries(harness: Harness) -> None:
    other, other_secret = await add_api(
        harness.ctx,
        identifier="https://billing.example",
        scopes=[ApiScope(name="billing:read", description="Read your invoices")],
    )
    client_id, secret, body = await issued(harness)  # a client of the default API only
    await revoke_token(harness, client_id, secret, str(body["refresh_token"]))
    notes = await feed(harness, basic(*await api_credentials(harness.ctx, AUDIENCE)))
    billing = await feed(harness, basic(other.client_id, other_secret))
    assert len(notes.body["revoked"]) == 1  # type: ignore[arg-type]
    assert billing.body["revoked"] == []


async def test_opaque_tokens_are_not_written(harness: Harness) -> None:
    import dataclasses

    api = await harness.ctx.stores.apis.get(AUDIENCE)
    assert api is not None
    await harness.ctx.stores.apis.update(dataclasses.replace(api, token_format="opaque"))
    client_id, secret, body = await issued(harness)
    await revoke_token(harness, client_id, secret, str(body["access_token"]))
    assert (await feed(harness, basic(*await api_credentials(harness.ctx)))).body["revoked"] == []


async def test_credentials_errors(harness: Harness) -> None:
    missing = await feed(harness, None)
    assert (missing.status, missing.body["error"]) == (401, "invalid_client")
    assert ("WWW-Authenticate", 'Basic realm="tokenpath"') in missing.headers
    api_id, _ = await api_credentials(harness.ctx)
    wrong = await feed(harness, basic(api_id, "not the secret"))
    assert (wrong.status, wrong.body["error"]) == (401, "invalid_client")
    assert any(name == "WWW-Authenticate" for name, _ in wrong.headers)
    client, secret = await harness.client()
    assert secret is not None
    not_an_api = await feed(harness, basic(client.client_id, secret))
    assert (not_an_api.status, not_an_api.body["error"]) == (403, "unauthorized_client")


@pytest.mark.parametrize(
    "query",
    [
        (("since", "abc"),),
        (("since", "-1"),),
        (("since", "01"),),
        (("since", "1" * 30),),
        (("since", ""),),
        (("since", "1"), ("since", "2")),
    ],
)
async def test_a_malformed_cursor_is_invalid_request(
    harness: Harness, query: tuple[tuple[str, str], ...]
) -> None:
    answer = await feed(harness, basic(*await api_credentials(harness.ctx)), *query)
    if query == (("since", ""),):
        assert answer.status == 200  # an empty parameter is an absent one (RFC 6749 §3.1)
        return
    assert (answer.status, answer.body["error"]) == (400, "invalid_request")


async def test_a_deleted_clients_grants_are_revoked_and_fed(harness: Harness) -> None:
    from tokenpath.core.revocation_feed import revoke_client_grants

    client_id, _, body = await issued(harness)
    claims = await harness.ctx.signer.verify(str(body["access_token"]))
    assert claims is not None
    assert await revoke_client_grants(harness.ctx, client_id) == 1
    grant = await harness.ctx.stores.grants.get(str(claims["grant_id"]))
    assert grant is not None and grant.revoked_at is not None
    entries = (await feed(harness, basic(*await api_credentials(harness.ctx)))).body["revoked"]
    assert [e["grant_id"] for e in entries] == [claims["grant_id"]]  # type: ignore[index, union-attr]
    assert await revoke_client_grants(harness.ctx, client_id) == 0  # nothing live is left


async def test_operator_revocations_reach_the_feed(harness: Harness) -> None:
    """``grants revoke``, ``user delete`` and ``client delete`` (core/lifecycle) announce every
    grant that was live, so JWT-validating APIs refuse its tokens too."""
    from tokenpath.core import lifecycle

    api = basic(*await api_credentials(harness.ctx))

    async def announced() -> set[object]:
        entries = (await feed(harness, api)).body["revoked"]
        return {entry.get("grant_id") for entry in entries}  # type: ignore[union-attr]

    grant_of = {}
    session = await harness.session()
    for how in ("grants", "client", "user"):
        client, secret = await harness.client(grant_types=CODE_AND_REFRESH)
        assert secret is not None
        body = (await harness.redeem(client, secret, session)).body
        claims = await harness.ctx.signer.verify(str(body["access_token"]))
        assert claims is not None
        grant_of[how] = (claims["grant_id"], claims["client_id"])
    await lifecycle.revoke_grants(harness.ctx, grant_id=grant_of["grants"][0])
    await lifecycle.delete_client(harness.ctx, grant_of["client"][1])
    assert await announced() == {grant_of["grants"][0], grant_of["client"][0]}
    await lifecycle.delete_user(harness.ctx, "alice")
    assert await announced() == {grant_id for grant_id, _ in grant_of.values()}
