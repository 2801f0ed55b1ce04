"""core/lifecycle/clients.py: disable, enable, delete and rotate, seen through the protocol."""

from __future__ import annotations

import pytest

from tests.core.conftest import CB, VERIFIER, Harness, basic
from tests.support.apis import api_credentials
from tokenpath.core import lifecycle
from tokenpath.core.introspection import introspect
from tokenpath.core.messages import BackchannelRequest, ErrorPage, JsonResponse
from tokenpath.core.records import Client, ClientType, GrantType

pytestmark = pytest.mark.anyio
GRANTS = (GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN)


async def is_active(harness: Harness, token: str) -> bool:
    """What the token's API learns at /introspect, asking with its own credentials."""
    rs_id, secret = await api_credentials(harness.ctx)
    request = BackchannelRequest(form=(("token", token),), authorization=basic(rs_id, secret))
    reply = await introspect(request, ctx=harness.ctx)
    assert reply.status == 200
    return reply.body["active"] is True


async def refresh(harness: Harness, client: Client, secret: str, token: str) -> JsonResponse:
    form = {"grant_type": "refresh_token", "refresh_token": token}
    return await harness.token(form, basic(client.client_id, secret))


async def test_a_disabled_client_cannot_authenticate_authorize_or_refresh_until_enabled(
    harness: Harness,
) -> None:
    client, secret = await harness.client(grant_types=GRANTS)
    assert secret is not None
    session = await harness.session()
    issued = await harness.redeem(client, secret, session)
    access, refresh_token = issued.body["access_token"], issued.body["refresh_token"]
    assert isinstance(access, str) and isinstance(refresh_token, str)

    disabled = await lifecycle.disable_client(harness.ctx, client.client_id)
    assert disabled.disabled_at == harness.clock.now()
    assert not await is_active(harness, access)
    assert (await refresh(harness, client, secret, refresh_token)).status == 401
    page = await harness.authorize(
        session, response_type="code", client_id=client.client_id, redirect_uri=CB,
        code_challenge="x" * 43, code_challenge_method="S256",
    )  # fmt: skip
    assert isinstance(page, ErrorPage) and "disabled" in page.error.description

    harness.clock.advance(5)
    again = await lifecycle.disable_client(harness.ctx, client.client_id)
    assert again.disabled_at == disabled.disabled_at  # idempotent: the first time is kept
    await lifecycle.enable_client(harness.ctx, client.client_id)
    assert await is_active(harness, access)
    assert (await refresh(harness, client, secret, refresh_token)).status == 200


async def test_delete_ends_every_token_and_a_second_delete_is_not_found(harness: Harness) -> None:
    client, secret = await harness.client(grant_types=GRANTS)
    assert secret is not None
    issued = await harness.redeem(client, secret, await harness.session())
    await lifecycle.delete_client(harness.ctx, client.client_id)
    assert not await is_active(harness, str(issued.body["access_token"]))
    assert not await is_active(harness, str(issued.body["refresh_token"]))
    assert await harness.ctx.stores.grants.list_for(client_id=client.client_id, limit=10) == []
    with pytest.raises(lifecycle.NotFound):
        await lifecycle.delete_client(harness.ctx, client.client_id)
    with pytest.raises(lifecycle.NotFound):
        await lifecycle.disable_client(harness.ctx, client.client_id)


async def client_credentials(harness: Harness, client: Client, secret: str) -> int:
    form = {"grant_type": "client_credentials", "scope": "notes:read"}
    return (await harness.token(form, basic(client.client_id, secret))).status


async def test_rotation_with_an_overlap_keeps_the_old_secret_until_it_ends(
    harness: Harness,
) -> None:
    client, old = await harness.client(grant_types=(GrantType.CLIENT_CREDENTIALS,))
    assert old is not None
    rotated, new = await lifecycle.rotate_client_secret(harness.ctx, client.client_id, 60)
    assert new != old and rotated.previous_secret_expires_at == harness.clock.now() + 60
    assert await client_credentials(harness, client, new) == 200
    assert await client_credentials(harness, client, old) == 200
    harness.clock.advance(60)
    assert await client_credentials(harness, client, old) == 401
    assert await client_credentials(harness, client, new) == 200


async def test_rotation_without_overlap_ends_the_old_secret_and_rotations_chain(
    harness: Harness,
) -> None:
    client, first = await harness.client(grant_types=(GrantType.CLIENT_CREDENTIALS,))
    assert first is not None
    _, second = await lifecycle.rotate_client_secret(harness.ctx, client.client_id, 30)
    _, third = await lifecycle.rotate_client_secret(harness.ctx, client.client_id, 0)
    for secret, status in ((first, 401), (second, 401), (third, 200)):
        assert await client_credentials(harness, client, secret) == status


async def test_rotation_is_refused_without_a_secret_or_with_a_bad_overlap(
    harness: Harness,
) -> None:
    public, _ = await harness.client(kind=ClientType.PUBLIC)
    with pytest.raises(lifecycle.Conflict, match="no secret to rotate"):
        await lifecycle.rotate_client_secret(harness.ctx, public.client_id)
    confidential, _ = await harness.client()
    for overlap in (-1, lifecycle.MAX_OVERLAP + 1):
        with pytest.raises(lifecycle.Invalid):
            await lifecycle.rotate_client_secret(harness.ctx, confidential.client_id, overlap)
    with pytest.raises(lifecycle.NotFound):
        await lifecycle.rotate_client_secret(harness.ctx, "nobody")


async def test_add_and_change_report_rule_breaks_as_invalid(harness: Harness) -> None:
    with pytest.raises(lifecycle.Invalid, match="redirect"):
        await lifecycle.add_client(
            harness.ctx, name="X", client_type=ClientType.PUBLIC,
            redirect_uris=["http://evil.example/cb"], scopes=["openid"],
        )  # fmt: skip
    client, _ = await harness.client()
    with pytest.raises(lifecycle.Invalid):
        await lifecycle.change_client(harness.ctx, client.client_id, redirect_uris=["nope"])
    with pytest.raises(lifecycle.NotFound):
        await lifecycle.change_client(harness.ctx, "nobody", name="Y")
    assert VERIFIER  # the harness's code flow (redeem) uses it
