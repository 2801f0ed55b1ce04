"""core/lifecycle/users.py and core/login.py: disabled users, deletion, passwords, rehashing."""

from __future__ import annotations

import dataclasses

import pytest

from tests.core.conftest import Harness, basic
from tokenpath.core import lifecycle
from tokenpath.core.login import current_session, login
from tokenpath.core.records import GrantType

pytestmark = pytest.mark.anyio


async def test_disabling_ends_sessions_and_sign_in_until_enabled_but_keeps_grants(
    harness: Harness,
) -> None:
    client, secret = await harness.client(grant_types=(GrantType.AUTHORIZATION_CODE,
                                                       GrantType.REFRESH_TOKEN))  # fmt: skip
    assert secret is not None
    session = await harness.session("alice")
    issued = await harness.redeem(client, secret, session)
    other = await login("alice", "correct horse", ctx=harness.ctx)
    assert isinstance(other, tuple)

    user = await lifecycle.disable_user(harness.ctx, "alice")
    assert user.disabled_at is not None
    assert await current_session(other[0], ctx=harness.ctx) is None
    assert await harness.ctx.stores.sessions.get(session.session_hash, harness.clock.now()) is None
    assert await login("alice", "correct horse", ctx=harness.ctx) is None
    form = {"grant_type": "refresh_token", "refresh_token": str(issued.body["refresh_token"])}
    assert (await harness.token(form, basic(client.client_id, secret))).status == 200

    await lifecycle.enable_user(harness.ctx, "alice")
    assert isinstance(await login("alice", "correct horse", ctx=harness.ctx), tuple)


async def test_delete_revokes_grants_and_a_second_delete_is_not_found(harness: Harness) -> None:
    client, secret = await harness.client(grant_types=(GrantType.AUTHORIZATION_CODE,
                                                       GrantType.REFRESH_TOKEN))  # fmt: skip
    assert secret is not None
    issued = await harness.redeem(client, secret, await harness.session("alice"))
    await lifecycle.delete_user(harness.ctx, "alice")
    form = {"grant_type": "refresh_token", "refresh_token": str(issued.body["refresh_token"])}
    assert (await harness.token(form, basic(client.client_id, secret))).status == 400
    grants = await harness.ctx.stores.grants.list_for(client_id=client.client_id, limit=5)
    assert [g.revoked_at is not None for g in grants] == [True]
    with pytest.raises(lifecycle.NotFound):
        await lifecycle.delete_user(harness.ctx, "alice")
    with pytest.raises(lifecycle.NotFound):
        await lifecycle.find_user(harness.ctx, "alice")


async def test_add_passwd_and_their_refusals(harness: Harness) -> None:
    await lifecycle.add_user(harness.ctx, "bob", "first password", {"name": "Bob"})
    with pytest.raises(lifecycle.Conflict):
        await lifecycle.add_user(harness.ctx, "bob", "first password")
    for bad in ("short", "x" * 1025):
        with pytest.raises(lifecycle.Invalid):
            await lifecycle.set_password(harness.ctx, "bob", bad)
    with pytest.raises(lifecycle.Invalid):
        await lifecycle.change_user(harness.ctx, "bob", {"sub": "forged"})
    await lifecycle.set_password(harness.ctx, "bob", "second password")
    assert await login("bob", "first password", ctx=harness.ctx) is None
    assert isinstance(await login("bob", "second password", ctx=harness.ctx), tuple)
    assert [u.username for u in await lifecycle.list_users(harness.ctx)] == ["bob"]


class OldParameters:
    """A hasher whose hashes all 'need a rehash', to see the sign-in store a new one."""

    def __init__(self, inner: object) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.endswith("+new")

    async def hash(self, password: str) -> str:
        return await self.inner.hash(password) + "+new"  # type: ignore[attr-defined, no-any-return]

    async def verify(self, password_hash: str, password: str) -> bool:
        stored = password_hash.removesuffix("+new")
        return await self.inner.verify(stored, password)  # type: ignore[attr-defined, no-any-return]


async def test_a_sign_in_upgrades_a_hash_made_with_old_parameters(harness: Harness) -> None:
    await lifecycle.add_user(harness.ctx, "carol", "correct horse")
    before = await lifecycle.find_user(harness.ctx, "carol")
    ctx = dataclasses.replace(harness.ctx, passwords=OldParameters(harness.ctx.passwords))
    assert await login("carol", "wrong horse", ctx=ctx) is None
    assert (await lifecycle.find_user(ctx, "carol")).password_hash == before.password_hash
    assert isinstance(await login("carol", "correct horse", ctx=ctx), tuple)
    after = (await lifecycle.find_user(ctx, "carol")).password_hash
    assert after != before.password_hash and after.endswith("+new")
    assert isinstance(await login("carol", "correct horse", ctx=ctx), tuple)
    assert (await lifecycle.find_user(ctx, "carol")).password_hash == after  # once only
