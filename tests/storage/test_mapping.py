"""Rows to records and back: every record type round-trips through its real table.

The maps are generated from the record dataclasses; these tests pin that the generated mapping
stores every field faithfully on SQLite and PostgreSQL, and that a record and its table cannot
drift apart silently.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, delete, insert, select

from tokenpath.core import records
from tokenpath.core.records import (
    AccessTokenRecord,
    AdminToken,
    Api,
    ApiScope,
    AuthorizationCode,
    Client,
    ClientType,
    Grant,
    GrantType,
    InitialAccessToken,
    PushedRequest,
    RefreshTokenRecord,
    ResponseType,
    RevocationEvent,
    Session,
    SigningKey,
    User,
)
from tokenpath.storage.sql import open_database
from tokenpath.storage.sql.mapping import JSON_LIST, MAPS, WORDS, RecordMap, codec_for

pytestmark = pytest.mark.anyio

FULL: dict[type[Any], Any] = {
    Client: Client(
        client_id="c1",
        client_name="Notes — web",
        client_type=ClientType.PUBLIC,
        secret_hash="h" * 64,
        redirect_uris=("https://app.example/cb", "http://127.0.0.1/cb?x=a b"),
        scopes=("openid", "notes:read"),
        default_scopes=("notes:read",),
        grant_types=(GrantType.REFRESH_TOKEN, GrantType.IMPLICIT),
        response_types=(ResponseType.TOKEN, ResponseType.CODE),
        token_endpoint_auth_method="private_key_jwt",
        require_pkce=True,
        access_token_format="opaque",
        jwks='{"keys": []}',
        jwks_uri="https://app.example/jwks.json",
        post_logout_redirect_uris=("https://app.example/bye", "https://app.example/bye?x=1"),
        backchannel_logout_uri="https://app.example/backchannel",
        subject_type="pairwise",
        dynamic=True,
        registration_access_token_hash="r" * 64,
        application_type="native",
        require_pushed_authorization_requests=True,
        dpop_bound_access_tokens=True,
        resources=("https://api.example", "http://127.0.0.1:9001/a b"),
        default_resource="https://api.example",
        created_at=1_700_000_000,
        disabled_at=1_700_000_100,
        previous_secret_hash="p" * 64,
        previous_secret_expires_at=1_700_000_200,
    ),
    User: User(
        user_id="u1",
        username="alice",
        password_hash="$argon2id$x",
        claims='{"name": "Alice", "email_verified": true}',
        created_at=5,
        disabled_at=6,
    ),
    Grant: Grant(
        grant_id="g1",
        client_id="c1",
        user_id="u1",
        scope=("openid", "email"),
        created_at=7,
        auth_time=6,
        revoked_at=9,
        sid="sid-1",
        resources=("https://api.example", "https://billing.example"),
    ),
    AuthorizationCode: AuthorizationCode(
        code_hash="a" * 64,
        grant_id="g1",
        client_id="c1",
        user_id="u1",
        redirect_uri="https://app.example/cb",
        redirect_uri_in_request=True,
        scope=("openid",),
        code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        code_challenge_method="S256",
        nonce="n-0S6_WzA2Mj",
        auth_time=10,
        issued_at=11,
        expires_at=71,
        consumed_at=12,
        sid="sid-1",
        dpop_jkt="k" * 43,
    ),
    AccessTokenRecord: AccessTokenRecord(
        jti="j1",
        grant_id="g1",
        client_id="c1",
        subject="u1",
        scope=("notes:read", "notes:write"),
        audience="https://api.example",
        grant_type=GrantType.CLIENT_CREDENTIALS,
        issued_at=1,
        expires_at=601,
        revoked_at=3,
        token_hash="t" * 64,
        jkt="k" * 43,
    ),
    RefreshTokenRecord: RefreshTokenRecord(
        token_hash="r" * 64,
        grant_id="g1",
        client_id="c1",
        user_id="u1",
        scope=("offline",),
        issued_at=1,
        expires_at=1000,
        idle_expires_at=500,
        used_at=2,
        revoked_at=3,
        jkt="k" * 43,
    ),
    Session: Session(session_hash="s" * 64, user_id="u1", auth_time=1, expires_at=2, sid="sid-1"),
    SigningKey: SigningKey(
        kid="k1", alg="ES256", private_jwk='{"kty": "EC"}', created_at=1, retired_at=2
    ),
    InitialAccessToken: InitialAccessToken(
        token_hash="i" * 64, uses_left=3, expires_at=86_401, created_at=1
    ),
    PushedRequest: PushedRequest(
        uri_hash="p" * 64,
        client_id="c1",
        parameters='[["client_id", "c1"], ["scope", "openid"]]',
        created_at=1,
        expires_at=61,
        used_at=2,
    ),
    AdminToken: AdminToken(
        token_id="a1", token_hash="a" * 64, name="ops", created_at=1, expires_at=9, revoked_at=5
    ),
    Api: Api(
        identifier="https://api.example/v1",
        scopes=(
            ApiScope(name="notes:read", description="Read your notes — all of them"),
            ApiScope(name="notes:write", description='Write "quoted" notes'),
        ),
        client_id="api-c1",
        token_format="opaque",
        access_token_lifetime=120,
        claims='{"tenant":"t1"}',
        created_at=4,
    ),
    RevocationEvent: RevocationEvent(
        event_id=42,
        audience="https://api.example/v1",
        jti="j1",
        grant_id="g1",
        expires_at=700,
        created_at=100,
    ),
}


def sparse(record: Any) -> Any:
    """The same record with every optional field None and every tuple empty."""
    changes: dict[str, Any] = {}
    for field in dataclasses.fields(record):
        value = getattr(record, field.name)
        if isinstance(value, tuple):
            changes[field.name] = ()
        elif "None" in str(field.type):
            changes[field.name] = None
        elif isinstance(value, bool):
            changes[field.name] = not value
    return dataclasses.replace(record, **changes)


def record_classes() -> set[type[Any]]:
    return {
        value
        for name in records.__all__
        if dataclasses.is_dataclass(value := getattr(records, name)) and isinstance(value, type)
    } - {ApiScope}  # a value inside Api, not a row


def test_every_record_has_a_map_and_samples() -> None:
    mapped = {rmap.record_type for rmap in MAPS}
    assert mapped == record_classes() == set(FULL)
    assert len({rmap.table.name for rmap in MAPS}) == len(MAPS)


@pytest.mark.parametrize("record", list(FULL.values()), ids=lambda r: type(r).__name__)
def test_full_samples_set_every_field(record: Any) -> None:
    """A field left at its default or None would hide a column the round trip never wrote."""
    for field in dataclasses.fields(record):
        value = getattr(record, field.name)
        assert value is not None and value != field.default, field.name
        assert value != (), field.name


@pytest.mark.parametrize("rmap", MAPS, ids=lambda m: m.table.name)
async def test_every_record_round_trips_through_its_table(
    db_url: str, rmap: RecordMap[Any]
) -> None:
    database = await open_database(db_url)
    try:
        db = database.executor
        for sample in (FULL[rmap.record_type], sparse(FULL[rmap.record_type])):
            await db.write(insert(rmap.table), rmap.values(sample))
            row = await db.one(select(rmap.table))
            assert row is not None
            assert rmap.record(row) == sample
            await db.write(delete(rmap.table))
    finally:
        await database.close()


def test_stored_forms_are_the_established_ones() -> None:
    """Existing rows stay readable: words for scopes and enums, JSON for redirect URIs."""
    values = next(m for m in MAPS if m.record_type is Client).values(FULL[Client])
    assert values["redirect_uris"] == '["https://app.example/cb", "http://127.0.0.1/cb?x=a b"]'
    assert values["scopes"] == "openid notes:read"
    assert values["grant_types"] == "refresh_token implicit"
    assert values["client_type"] == "public" and type(values["client_type"]) is str
    assert values["require_pkce"] is True and values["jwks"] == '{"keys": []}'


@dataclasses.dataclass(frozen=True, kw_only=True)
class Thing:
    thing_id: str
    size: int | None = None


def table(*extra: Column[Any]) -> Table:
    return Table(
        "things",
        MetaData(),
        Column("thing_id", String, primary_key=True),
        Column("size", Integer),
        *extra,
    )


def test_a_field_without_a_column_fails_when_the_map_is_built() -> None:
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Grown(Thing):
        colour: str = "red"

    with pytest.raises(TypeError, match=r"fields without a column \['colour'\]"):
        RecordMap(Grown, table())


def test_a_column_without_a_field_fails_when_the_map_is_built() -> None:
    with pytest.raises(TypeError, match=r"columns without a field \['colour'\]"):
        RecordMap(Thing, table(Column("colour", String)))


def test_reads_follow_column_positions_not_field_order() -> None:
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Reordered:
        size: int | None
        thing_id: str

    rmap = RecordMap(Reordered, table())
    assert rmap.record(("t1", 3)) == Reordered(size=3, thing_id="t1")
    assert rmap.values(Reordered(size=None, thing_id="t2")) == {"size": None, "thing_id": "t2"}


@pytest.mark.parametrize(
    ("hint", "stored", "value"),
    [
        (tuple[str, ...], "a b", ("a", "b")),
        (tuple[GrantType, ...], "implicit", (GrantType.IMPLICIT,)),
        (ClientType, "public", ClientType.PUBLIC),
        (bool, 1, True),
    ],
)
def test_codecs_by_type(hint: Any, stored: object, value: object) -> None:
    codec = codec_for(hint)
    assert codec is not None and codec.decode(stored) == value
    assert codec.decode(codec.encode(value)) == value


@pytest.mark.parametrize("hint", [str, int, str | None, int | None])
def test_plain_values_pass_through(hint: Any) -> None:
    assert codec_for(hint) is None


@pytest.mark.parametrize("hint", [list[str], dict[str, str], float, ClientType | None])
def test_unknown_types_fail_loudly(hint: Any) -> None:
    with pytest.raises(TypeError, match="no column codec"):
        codec_for(hint)


def test_named_codecs() -> None:
    assert WORDS.decode("") == () and WORDS.encode(()) == ""
    uris: Sequence[str] = ("https://a.example/cb?x=1 2",)
    assert JSON_LIST.decode(JSON_LIST.encode(uris)) == tuple(uris)
