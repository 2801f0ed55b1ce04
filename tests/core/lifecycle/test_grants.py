"""core/lifecycle/grants.py: revoking ends codes, tokens, refresh families and sessions."""

from __future__ import annotations

import pytest

from tests.core.conftest import CB, VERIFIER, Harness, basic
from tokenpath.core import lifecycle
from tokenpath.core.records import GrantType
from tokenpath.core.token_lookup import find_token, is_active

pytestmark = pytest.mark.anyio
GRANTS = (GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN)


async def test_revoking_a_users_grants_ends_codes_tokens_families_and_sessions(
    harness: Harness,
) -> None:
    client, secret = await harness.client(grant_types=GRANTS)
    assert secret is not None
    session = await harness.session("alice")
    issued = await harness.redeem(client, secret, session)
    pending = await harness.code(client, session)  # issued, not yet redeemed

    count = await lifecycle.revoke_grants(harness.ctx, username="alice")
    assert (count.grants, count.sessions) == (2, 1)
    for token in (issued.body["access_token"], issued.body["refresh_token"]):
        found = await find_token(str(token), None, harness.ctx)
        assert found is not None and not await is_active(found, harness.ctx)
    auth = basic(client.client_id, secret)
    form = {"grant_type": "refresh_token", "refresh_token": str(issued.body["refresh_token"])}
    assert (await harness.token(form, auth)).status == 400
    form = {"grant_type": "authorization_code", "code": pending, "redirect_uri": CB,
            "code_verifier": VERIFIER}  # fmt: skip
    assert (await harness.token(form, auth)).status == 400
    assert await harness.ctx.stores.sessions.get(session.session_hash, harness.clock.now()) is None

    again = await lifecycle.revoke_grants(harness.ctx, username="alice")
    assert (again.grants, again.sessions) == (0, 0)  # twice is fine: nothing was live
    listed = await lifecycle.list_grants(harness.ctx, username="alice")
    assert len(listed) == 2 and all(g.revoked_at is not None for g in listed)


async def test_revoking_one_grant_or_a_clients_leaves_the_others(harness: Harness) -> None:
    first, first_secret = await harness.client(grant_types=GRANTS)
    second, second_secret = await harness.client(grant_types=GRANTS)
    assert first_secret is not None and second_secret is not None
    session = await harness.session("alice")
    await harness.redeem(first, first_secret, session)
    await harness.redeem(second, second_secret, session)
    (grant,) = await lifecycle.list_grants(harness.ctx, client_id=first.client_id)
    assert (await lifecycle.revoke_grants(harness.ctx, grant_id=grant.grant_id)).grants == 1
    assert (await lifecycle.revoke_grants(harness.ctx, client_id=second.client_id)).grants == 1
    assert (await lifecycle.revoke_grants(harness.ctx, client_id=first.client_id)).grants == 0
    assert await harness.ctx.stores.sessions.get(session.session_hash, harness.clock.now())


async def test_unknown_or_ambiguous_selections_are_refused(harness: Harness) -> None:
    with pytest.raises(lifecycle.NotFound):
        await lifecycle.revoke_grants(harness.ctx, grant_id="nope")
    with pytest.raises(lifecycle.NotFound):
        await lifecycle.list_grants(harness.ctx, username="nobody")
    with pytest.raises(lifecycle.NotFound):
        await lifecycle.revoke_grants(harness.ctx, client_id="nope")
    with pytest.raises(lifecycle.Invalid):
        await lifecycle.revoke_grants(harness.ctx, username="a", client_id="b")
    with pytest.raises(lifecycle.Invalid):
        await lifecycle.list_grants(harness.ctx)
