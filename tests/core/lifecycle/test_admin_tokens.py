"""core/lifecycle/admin_tokens.py: shown once, stored hashed, expiring and revocable."""

from __future__ import annotations

import pytest

from tests.core.conftest import Harness
from tokenpath.core import lifecycle
from tokenpath.core.clock import hash_token

pytestmark = pytest.mark.anyio


async def test_a_token_authenticates_until_it_expires_or_is_revoked(harness: Harness) -> None:
    record, token = await lifecycle.create_admin_token(harness.ctx, name="ops", expires_in=60)
    assert token.startswith("tpadm_") and record.token_hash == hash_token(token)
    assert token not in repr(await lifecycle.list_admin_tokens(harness.ctx))
    assert await lifecycle.authenticate_admin(harness.ctx, token) == record
    for wrong in ("", token + "x", token.removeprefix("tpadm_"), "tpadm_" + "a" * 300):
        assert await lifecycle.authenticate_admin(harness.ctx, wrong) is None
    harness.clock.advance(60)
    assert await lifecycle.authenticate_admin(harness.ctx, token) is None

    forever, other = await lifecycle.create_admin_token(harness.ctx)
    assert forever.expires_at is None
    await lifecycle.revoke_admin_token(harness.ctx, forever.token_id)
    await lifecycle.revoke_admin_token(harness.ctx, forever.token_id)  # idempotent
    assert await lifecycle.authenticate_admin(harness.ctx, other) is None
    with pytest.raises(lifecycle.NotFound):
        await lifecycle.revoke_admin_token(harness.ctx, "nope")
    with pytest.raises(lifecycle.Invalid):
        await lifecycle.create_admin_token(harness.ctx, name=" ")
