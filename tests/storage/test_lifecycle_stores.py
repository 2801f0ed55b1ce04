"""The operator's changes in SQL (SQLite and PostgreSQL): each is one transaction, so a failure
changes nothing and two changes at once leave a state one order of them would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from tokenpath.core.ports import GrantSelector
from tokenpath.core.records import (
    AdminToken,
    AuthorizationCode,
    Client,
    ClientType,
    Grant,
    RefreshTokenRecord,
    Session,
    User,
)
from tokenpath.storage.sql import Database, open_database
from tokenpath.storage.sql import models as m

pytestmark = pytest.mark.anyio


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    opened = await open_database(db_url)
    try:
        yield opened
    finally:
        await opened.close()


def client(client_id: str = "c1") -> Client:
    return Client(
        client_id=client_id, client_name="App", client_type=ClientType.CONFIDENTIAL,
        secret_hash="s0", redirect_uris=("https://app.example/cb",), scopes=("openid",),
    )  # fmt: skip


async def seed(db: Database, user_id: str = "u1", client_id: str = "c1") -> None:
    """A user with a session and consent, a client, a grant with a code and a refresh token."""
    s = db.stores
    await s.clients.add(client(client_id))
    await s.users.add(User(user_id=user_id, username=f"name-{user_id}", password_hash="h"))
    await s.sessions.add(Session(session_hash=f"s-{user_id}-{client_id}", user_id=user_id,
                                 auth_time=1, expires_at=10**10))  # fmt: skip
    await s.consents.add(user_id, client_id, frozenset({"openid"}), 1)
    grant = f"g-{user_id}-{client_id}"
    await s.grants.add(Grant(grant_id=grant, client_id=client_id, user_id=user_id,
                             scope=("openid",), created_at=1))  # fmt: skip
    await s.codes.add(AuthorizationCode(
        code_hash=f"code-{grant}", grant_id=grant, client_id=client_id, user_id=user_id,
        redirect_uri="https://app.example/cb", redirect_uri_in_request=True, scope=("openid",),
        code_challenge=None, code_challenge_method=None, nonce=None, auth_time=1, issued_at=1,
        expires_at=10**10,
    ))  # fmt: skip
    await s.refresh_tokens.add(RefreshTokenRecord(
        token_hash=f"rt-{grant}", grant_id=grant, client_id=client_id, user_id=user_id,
        scope=("openid",), issued_at=1, expires_at=10**10, idle_expires_at=10**10,
    ))  # fmt: skip


async def test_client_delete_cascades_and_reports_existence(database: Database) -> None:
    await seed(database)
    s = database.stores
    assert await s.clients.delete("c1") is True
    assert await s.grants.get("g-u1-c1") is None
    assert await s.codes.get("code-g-u1-c1") is None
    assert await s.refresh_tokens.get("rt-g-u1-c1") is None
    assert await s.consents.get("u1", "c1") == frozenset()
    assert await s.clients.delete("c1") is False
    assert await s.users.get("u1") is not None  # users are not the client's to delete


async def test_disable_keeps_the_first_time_and_ends_the_users_sessions(database: Database) -> None:
    await seed(database)
    s = database.stores
    assert await s.clients.set_disabled("c1", 5) and await s.clients.set_disabled("c1", 9)
    assert (await s.clients.get("c1")).disabled_at == 5  # type: ignore[union-attr]
    assert await s.clients.set_disabled("c1", None)
    assert (await s.clients.get("c1")).disabled_at is None  # type: ignore[union-attr]
    assert await s.users.set_disabled("u1", 7)
    assert await s.sessions.get("s-u1-c1", 2) is None
    assert (await s.users.get("u1")).disabled_at == 7  # type: ignore[union-attr]
    assert not await s.users.set_disabled("nobody", 7) and not await s.clients.set_disabled("x", 1)


async def test_rotations_at_once_chain_and_lose_no_secret(database: Database) -> None:
    s = database.stores
    await s.clients.add(client())
    await asyncio.gather(s.clients.rotate_secret("c1", "s1", 100),
                         s.clients.rotate_secret("c1", "s2", 100))  # fmt: skip
    rotated = await s.clients.get("c1")
    assert rotated is not None
    assert {rotated.secret_hash, rotated.previous_secret_hash} in ({"s1", "s0"}, {"s2", "s1"},
                                                                   {"s1", "s2"})  # fmt: skip
    assert rotated.previous_secret_hash != rotated.secret_hash
    assert await s.clients.rotate_secret("c1", "s3", None)
    final = await s.clients.get("c1")
    assert final is not None and (final.secret_hash, final.previous_secret_hash) == ("s3", None)


async def test_revoke_for_a_user_then_delete_while_another_user_is_untouched(
    database: Database,
) -> None:
    await seed(database, "u1")
    await seed(database, "u2", "c2")
    s = database.stores
    count, deleted = await asyncio.gather(
        s.grants.revoke_for(GrantSelector(user_id="u1"), 5), s.users.delete("u1", 6)
    )
    assert deleted is True and count.grants in (0, 1)
    revoked = await s.grants.get("g-u1-c1")
    assert revoked is not None and revoked.revoked_at is not None
    assert await s.codes.get("code-g-u1-c1") is None
    assert (await s.refresh_tokens.get("rt-g-u1-c1")).revoked_at is not None  # type: ignore[union-attr]
    assert await s.users.get("u1") is None
    untouched = await s.grants.get("g-u2-c2")
    assert untouched is not None and untouched.revoked_at is None
    assert await s.sessions.get("s-u2-c2", 2) is not None
    assert [g.grant_id for g in await s.grants.list_for(user_id="u2", limit=5)] == ["g-u2-c2"]
    assert (await s.grants.revoke_for(GrantSelector(grant_id="g-u2-c2"), 7)).grants == 1
    assert (await s.grants.revoke_for(GrantSelector(grant_id="g-u2-c2"), 8)).grants == 0


async def test_a_failing_step_rolls_the_whole_transaction_back(database: Database) -> None:
    await seed(database)
    steps = [
        (update(m.grants).where(m.grants.c.grant_id == "g-u1-c1").values(revoked_at=3), None),
        (
            insert(m.users).values(
                user_id="u1", username="name-u1", password_hash="h", claims="{}", created_at=0
            ),
            None,
        ),
    ]
    with pytest.raises(IntegrityError):
        await database.executor.transaction(steps)
    grant = await database.stores.grants.get("g-u1-c1")
    assert grant is not None and grant.revoked_at is None  # nothing half-changed
    with pytest.raises(KeyError):  # a taken user name, as the memory store reports it
        await database.stores.users.add(User(user_id="u9", username="name-u1", password_hash="h"))


async def test_admin_tokens_live_expire_and_revoke(database: Database) -> None:
    tokens = database.stores.admin_tokens
    await tokens.add(AdminToken(token_id="a", token_hash="ha", name="ops", created_at=1,
                                expires_at=10))  # fmt: skip
    await tokens.add(AdminToken(token_id="b", token_hash="hb", name="ci", created_at=2))
    assert (await tokens.get("ha", 9)) is not None and await tokens.get("ha", 10) is None
    assert await tokens.revoke("b", 5) and await tokens.revoke("b", 6)
    assert await tokens.get("hb", 5) is None and not await tokens.revoke("zz", 5)
    assert [(t.token_id, t.revoked_at) for t in await tokens.list()] == [("a", None), ("b", 5)]
