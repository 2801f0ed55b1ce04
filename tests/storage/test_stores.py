"""The port contract (``core/ports.py``) on every adapter: memory, SQLite and PostgreSQL.

Each test states one promise the core relies on; ``any_stores`` runs it against each adapter.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from sqlalchemy.exc import IntegrityError

from tokenpath.core.clock import hash_token
from tokenpath.core.ports import Stores
from tokenpath.core.records import (
    AccessTokenRecord,
    AuthorizationCode,
    Client,
    ClientType,
    Grant,
    GrantType,
    ResponseType,
    Session,
    SigningKey,
    User,
)

pytestmark = pytest.mark.anyio
DUPLICATE = (KeyError, IntegrityError)


def client(client_id: str = "c1", **changes: object) -> Client:
    values: dict[str, object] = {
        "client_id": client_id,
        "client_name": "Notes — web",
        "client_type": ClientType.CONFIDENTIAL,
        "secret_hash": hash_token("s3cret"),
        "redirect_uris": ("https://app.example/cb", "http://127.0.0.1/cb?x=a b"),
        "scopes": ("openid", "notes:read", "notes:write"),
        "default_scopes": ("notes:read",),
        "grant_types": (GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN),
        "response_types": (ResponseType.CODE, ResponseType.TOKEN),
        "token_endpoint_auth_method": "private_key_jwt",
        "require_pkce": True,
        "access_token_format": "opaque",
        "jwks": '{"keys": []}',
        "created_at": 10,
    }
    values.update(changes)
    return Client(**values)  # type: ignore[arg-type]


def code(raw: str = "raw-code", **changes: object) -> AuthorizationCode:
    values: dict[str, object] = {
        "code_hash": hash_token(raw),
        "grant_id": "g1",
        "client_id": "c1",
        "user_id": "u1",
        "redirect_uri": "https://app.example/cb",
        "redirect_uri_in_request": True,
        "scope": ("openid", "notes:read"),
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
        "nonce": "n-0S6_WzA2Mj",
        "auth_time": 90,
        "issued_at": 100,
        "expires_at": 160,
    }
    values.update(changes)
    return AuthorizationCode(**values)  # type: ignore[arg-type]


def access(jti: str, grant_id: str | None = "g1", **changes: object) -> AccessTokenRecord:
    values: dict[str, object] = {
        "jti": jti,
        "grant_id": grant_id,
        "client_id": "c1",
        "subject": "u1",
        "scope": ("notes:read",),
        "audience": "https://api.example",
        "grant_type": GrantType.AUTHORIZATION_CODE,
        "issued_at": 100,
        "expires_at": 400,
    }
    values.update(changes)
    return AccessTokenRecord(**values)  # type: ignore[arg-type]


async def test_client_round_trip_update_and_list(any_stores: Stores) -> None:
    clients = any_stores.clients
    first = client()
    await clients.add(first)
    assert await clients.get("c1") == first
    assert await clients.get("C1") is None and await clients.get("missing") is None
    public = client(
        "c0",
        client_type=ClientType.PUBLIC,
        secret_hash=None,
        default_scopes=(),
        grant_types=(GrantType.IMPLICIT,),
        response_types=(ResponseType.TOKEN,),
        jwks=None,
        require_pkce=False,
        created_at=10,
    )
    await clients.add(public)
    assert await clients.get("c0") == public
    changed = dataclasses.replace(first, client_name="Renamed", redirect_uris=("https://b/cb",))
    await clients.update(changed)
    assert await clients.get("c1") == changed
    by_uri = dataclasses.replace(changed, jwks=None, jwks_uri="https://app.example/jwks.json")
    await clients.update(by_uri)
    assert await clients.get("c1") == by_uri
    assert [c.client_id for c in await clients.list()] == ["c0", "c1"]
    with pytest.raises(DUPLICATE):
        await clients.add(client())


async def test_user_lookups_are_exact_and_usernames_unique(any_stores: Stores) -> None:
    users = any_stores.users
    alice = User(user_id="u1", username="alice", password_hash="$argon2id$x", created_at=5)
    await users.add(alice)
    assert await users.get("u1") == alice
    assert await users.get_by_username("alice") == alice
    assert await users.get_by_username("Alice") is None
    assert await users.get_by_username("alic") is None
    await users.set_password_hash("u1", "$argon2id$y")
    assert await users.get("u1") == dataclasses.replace(alice, password_hash="$argon2id$y")
    with pytest.raises(DUPLICATE):
        await users.add(User(user_id="u2", username="alice", password_hash="h"))


async def test_user_claims_round_trip_and_are_replaced_whole(any_stores: Stores) -> None:
    users = any_stores.users
    text = '{"address":{"locality":"Oxford"},"email_verified":true,"name":"Ålice"}'
    bob = User(user_id="u1", username="bob", password_hash="h", claims=text, created_at=1)
    carol = User(user_id="u2", username="carol", password_hash="h")
    await users.add(bob)
    await users.add(carol)
    assert await users.get("u1") == bob
    assert (await users.get("u2")) == carol and carol.claims == "{}"
    await users.set_claims("u1", '{"name":"Bob"}')
    assert await users.get_by_username("bob") == dataclasses.replace(bob, claims='{"name":"Bob"}')
    assert await users.get("u2") == carol  # only the named user changes
    await users.set_claims("nobody", '{"name":"X"}')  # an unknown id changes nothing
    assert await users.get("nobody") is None


async def test_grant_round_trip_and_revoke_keeps_first_time(any_stores: Stores) -> None:
    grants = any_stores.grants
    machine = Grant(grant_id="g0", client_id="c", user_id=None, scope=(), created_at=1)
    person = Grant(
        grant_id="g1", client_id="c", user_id="u", scope=("a", "b"), created_at=2, auth_time=1
    )
    await grants.add(machine)
    await grants.add(person)
    assert await grants.get("g0") == machine and await grants.get("g1") == person
    await asyncio.gather(*(grants.revoke("g1", t) for t in (10, 10, 10)))
    await grants.revoke("g1", 20)
    await grants.revoke("missing", 20)
    assert await grants.get("g1") == dataclasses.replace(person, revoked_at=10)
    assert await grants.get("g0") == machine
    assert await grants.get("missing") is None


async def test_grants_are_listed_by_the_session_they_were_given_in(any_stores: Stores) -> None:
    grants = any_stores.grants
    rows = [
        Grant(grant_id=f"g{n}", client_id=f"c{n}", user_id="u", scope=(), created_at=n, sid=sid)
        for n, sid in enumerate(["s1", "s2", "s1", None])
    ]
    for row in rows:
        await grants.add(row)
    await grants.revoke("g2", 5)
    assert {g.grant_id for g in await grants.list_by_sid("s1")} == {"g0", "g2"}
    assert [g.grant_id for g in await grants.list_by_sid("s2")] == ["g1"]
    assert list(await grants.list_by_sid("unknown")) == []
    assert list(await grants.list_by_sid("")) == []


async def test_code_is_found_by_the_hash_it_was_stored_under(any_stores: Stores) -> None:
    stored = code()
    minimal = code("other", code_challenge=None, code_challenge_method=None, nonce=None)
    await any_stores.codes.add(stored)
    await any_stores.codes.add(dataclasses.replace(minimal, redirect_uri_in_request=False))
    assert await any_stores.codes.get(hash_token("raw-code")) == stored
    assert await any_stores.codes.get("raw-code") is None  # the store never hashes for you
    assert (await any_stores.codes.get(hash_token("other"))) == dataclasses.replace(
        minimal, redirect_uri_in_request=False
    )


async def test_consume_once_only_and_never_when_expired(any_stores: Stores) -> None:
    codes = any_stores.codes
    await codes.add(code("a"))
    await codes.add(code("b"))
    used = await codes.consume(hash_token("a"), 159)
    assert used == dataclasses.replace(code("a"), consumed_at=159)
    assert await codes.consume(hash_token("a"), 159) is None
    assert await codes.get(hash_token("a")) == used
    assert await codes.consume(hash_token("b"), 160) is None  # expires_at is exclusive
    assert await codes.get(hash_token("b")) == code("b")  # an expired code is left untouched
    assert await codes.consume(hash_token("missing"), 100) is None


async def test_twenty_concurrent_consumes_one_winner(any_stores: Stores) -> None:
    await any_stores.codes.add(code())
    results = await asyncio.gather(
        *(any_stores.codes.consume(hash_token("raw-code"), 120 + i % 3) for i in range(20))
    )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert await any_stores.codes.get(hash_token("raw-code")) == winners[0]
    assert winners[0].consumed_at in (120, 121, 122)


async def test_access_tokens_by_jti_and_hash(any_stores: Stores) -> None:
    tokens = any_stores.tokens
    opaque = access("j3", token_hash=hash_token("opaque"), grant_type=GrantType.REFRESH_TOKEN)
    machine = access("j4", grant_id=None, grant_type=GrantType.CLIENT_CREDENTIALS, subject="c1")
    for record in (opaque, machine):
        await tokens.add(record)
    assert await tokens.get("j3") == opaque and await tokens.get("j4") == machine
    assert await tokens.get("missing") is None
    assert await tokens.get_by_hash(hash_token("opaque")) == opaque
    assert await tokens.get_by_hash("opaque") is None


async def test_revoking_stores_a_jwt_record_once(any_stores: Stores) -> None:
    """A JWT is not stored at issue; revoking it writes its record, keeping the first time."""
    tokens = any_stores.tokens
    jwt_a, stored = access("j1"), access("j2", scope=("a", "b"))
    await tokens.add(stored)
    await tokens.revoke(jwt_a, 200)
    await tokens.revoke(jwt_a, 300)
    await tokens.revoke(stored, 250)
    assert await tokens.get("j1") == dataclasses.replace(jwt_a, revoked_at=200)
    assert await tokens.get("j2") == dataclasses.replace(stored, revoked_at=250)


async def test_consent_merges_per_user_and_client(any_stores: Stores) -> None:
    consents = any_stores.consents
    assert await consents.get("u", "c") == frozenset()
    await consents.add("u", "c", frozenset({"openid", "notes:read"}), 1)
    await consents.add("u", "c", frozenset({"notes:read", "notes:write"}), 2)
    await consents.add("u", "c", frozenset(), 3)
    await consents.add("u", "other", frozenset({"x"}), 4)
    await consents.add("v", "c", frozenset({"y"}), 5)
    assert await consents.get("u", "c") == {"openid", "notes:read", "notes:write"}
    assert await consents.get("u", "other") == {"x"}
    assert await consents.get("v", "c") == {"y"}


async def test_concurrent_consents_all_land(any_stores: Stores) -> None:
    scopes = [frozenset({f"s{i}", "shared"}) for i in range(8)]
    await asyncio.gather(*(any_stores.consents.add("u", "c", s, 1) for s in scopes))
    assert await any_stores.consents.get("u", "c") == frozenset().union(*scopes)


async def test_session_expires_and_deletes(any_stores: Stores) -> None:
    sessions = any_stores.sessions
    live = Session(session_hash=hash_token("sid"), user_id="u", auth_time=100, expires_at=200)
    await sessions.add(live)
    assert await sessions.get(live.session_hash, 199) == live
    assert await sessions.get(live.session_hash, 200) is None
    assert await sessions.get("sid", 150) is None
    await sessions.delete(live.session_hash)
    await sessions.delete(live.session_hash)  # deleting twice is harmless
    assert await sessions.get(live.session_hash, 150) is None


async def test_keys_newest_first_and_retired_hidden(any_stores: Stores) -> None:
    keys = any_stores.keys
    assert list(await keys.list_active()) == []
    for kid, created in (("k-a", 1), ("k-c", 3), ("k-b", 3), ("k-d", 2)):
        await keys.add(
            SigningKey(kid=kid, alg="ES256", private_jwk=f'{{"kid": "{kid}"}}', created_at=created)
        )
    await keys.add(SigningKey(kid="k-z", alg="RS256", private_jwk="{}", created_at=9, retired_at=5))
    active = await keys.list_active()
    assert [k.kid for k in active] == ["k-c", "k-b", "k-d", "k-a"]
    assert active[0] == SigningKey(
        kid="k-c", alg="ES256", private_jwk='{"kid": "k-c"}', created_at=3
    )
    await keys.retire("k-c", 10)
    await keys.retire("k-c", 11)
    await keys.retire("missing", 11)
    assert [k.kid for k in await keys.list_active()] == ["k-b", "k-d", "k-a"]
