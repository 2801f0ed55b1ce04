import json
from dataclasses import replace

import pytest

from tests.core.conftest import Harness
from tokenpath.core.client_auth import verify_client_secret
from tokenpath.core.errors import InvalidRequest
from tokenpath.core.events import EventName, ListEventSink
from tokenpath.core.records import ClientType, GrantType, ResponseType
from tokenpath.core.redirect_uris import InvalidRedirectUri
from tokenpath.core.registration import (
    InvalidClientMetadata,
    create_user,
    register_client,
    update_user_claims,
)

pytestmark = pytest.mark.anyio


async def test_confidential_client_secret_is_hashed_and_shown_once(harness: Harness) -> None:
    client, secret = await harness.client()
    assert secret is not None and len(secret) >= 43  # 256 bits
    assert client.secret_hash is not None and secret not in client.secret_hash
    assert verify_client_secret(secret, client.secret_hash)
    assert not verify_client_secret(secret + "x", client.secret_hash)
    assert not verify_client_secret(secret, "argon2$garbage")
    assert client.response_types == (ResponseType.CODE,)
    assert await harness.ctx.stores.clients.get(client.client_id) == client


async def test_ids_are_server_assigned_and_unique(harness: Harness) -> None:
    ids = {(await harness.client())[0].client_id for _ in range(20)}
    assert len(ids) == 20


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"redirect_uris": []}, InvalidRedirectUri),
        ({"redirect_uris": ["http://client.example/cb"]}, InvalidRedirectUri),
        ({"redirect_uris": ["https://client.example/cb#x"]}, InvalidRedirectUri),
        ({"scopes": ["admin"]}, InvalidClientMetadata),
        ({"scopes": []}, InvalidClientMetadata),
        ({"name": "  "}, InvalidClientMetadata),
        ({"grant_types": [GrantType.IMPLICIT]}, InvalidClientMetadata),  # confidential + implicit
        ({"response_types": [ResponseType.TOKEN]}, InvalidClientMetadata),
        ({"grant_types": []}, InvalidClientMetadata),
        ({"grant_types": [GrantType.REFRESH_TOKEN]}, InvalidClientMetadata),  # needs a code grant
        (  # response_type code needs the authorization_code grant
            {"grant_types": [GrantType.CLIENT_CREDENTIALS], "response_types": [ResponseType.CODE]},
            InvalidClientMetadata,
        ),
        (  # RFC 6749 §4.4: confidential clients only
            {"client_type": ClientType.PUBLIC, "grant_types": [GrantType.CLIENT_CREDENTIALS]},
            InvalidClientMetadata,
        ),
    ],
)
async def test_bad_metadata(
    harness: Harness, kwargs: dict[str, object], error: type[Exception]
) -> None:
    args: dict[str, object] = {
        "name": "App",
        "client_type": ClientType.CONFIDENTIAL,
        "redirect_uris": ["https://client.example/cb"],
        "scopes": ["openid"],
        **kwargs,
    }
    with pytest.raises(error):
        await register_client(ctx=harness.ctx, **args)  # type: ignore[arg-type]
    assert harness.ctx.stores.clients.rows == {}  # type: ignore[attr-defined]


async def test_users(harness: Harness) -> None:
    user = await create_user(ctx=harness.ctx, username="alice", password="correct horse")
    assert user.password_hash != "correct horse"
    for name, password in [("alice", "another pw"), ("bo b", "long enough"), ("carol", "short")]:
        with pytest.raises(InvalidRequest):
            await create_user(ctx=harness.ctx, username=name, password=password)


async def test_create_user_with_claims_stores_them_validated(harness: Harness) -> None:
    events = ListEventSink()
    harness.ctx = replace(harness.ctx, events=events)
    claims = {"name": "Alice", "email": "alice@example.com", "email_verified": True}
    user = await create_user(
        ctx=harness.ctx, username="alice", password="correct horse", claims=claims
    )
    assert json.loads(user.claims) == claims
    assert await harness.ctx.stores.users.get(user.user_id) == user
    plain = await create_user(ctx=harness.ctx, username="bob", password="correct horse")
    assert plain.claims == "{}"
    with pytest.raises(InvalidRequest, match="sub is assigned"):
        await create_user(
            ctx=harness.ctx, username="carol", password="correct horse", claims={"sub": "x"}
        )
    assert await harness.ctx.stores.users.get_by_username("carol") is None
    assert [dict(e.extra)["action"] for e in events.events] == ["user.add", "user.add"]


async def test_update_user_claims_merges_removes_and_emits_an_event(harness: Harness) -> None:
    events = ListEventSink()
    harness.ctx = replace(harness.ctx, events=events)
    user = await create_user(
        ctx=harness.ctx,
        username="alice",
        password="correct horse",
        claims={"name": "Alice", "phone_number": "+441865000000"},
    )
    updated = await update_user_claims(
        harness.ctx, "alice", {"email": "a@example.com", "phone_number": None, "nickname": None}
    )
    assert json.loads(updated.claims) == {"name": "Alice", "email": "a@example.com"}
    assert await harness.ctx.stores.users.get(user.user_id) == updated
    assert updated.password_hash == user.password_hash
    changes = events.named(EventName.ADMIN_CHANGE)
    assert [(dict(e.extra)["action"], e.user_id) for e in changes][-1] == (
        "user.update",
        user.user_id,
    )
    assert "a@example.com" not in json.dumps([e.fields() for e in events.events])


async def test_update_user_claims_refuses_unknown_users_and_bad_values(harness: Harness) -> None:
    await create_user(
        ctx=harness.ctx, username="alice", password="correct horse", claims={"name": "Alice"}
    )
    with pytest.raises(InvalidRequest, match="no user 'nobody'"):
        await update_user_claims(harness.ctx, "nobody", {"name": "N"})
    for change in ({"email_verified": "yes"}, {"colour": "red"}, {"sub": "x"}):
        with pytest.raises(InvalidRequest):
            await update_user_claims(harness.ctx, "alice", change)
    stored = await harness.ctx.stores.users.get_by_username("alice")
    assert stored is not None and json.loads(stored.claims) == {"name": "Alice"}


IMPLICIT_RESPONSES = (ResponseType.TOKEN, ResponseType.ID_TOKEN, ResponseType.ID_TOKEN_TOKEN)
"""OIDC Core §3.2: the implicit grant's response types, ``id_token`` ones included."""


async def test_update_client_policy(harness: Harness) -> None:
    from tokenpath.core.registration import update_client

    client, _ = await harness.client(
        kind=ClientType.PUBLIC, grant_types=[GrantType.AUTHORIZATION_CODE, GrantType.IMPLICIT]
    )
    assert client.response_types == (ResponseType.CODE, *IMPLICIT_RESPONSES)
    # restrict it to the code flow: the token response types go with the implicit grant
    code_only = await update_client(
        ctx=harness.ctx, client_id=client.client_id, grant_types=[GrantType.AUTHORIZATION_CODE]
    )
    assert code_only.response_types == (ResponseType.CODE,)
    assert await harness.ctx.stores.clients.get(client.client_id) == code_only
    renamed = await update_client(ctx=harness.ctx, client_id=client.client_id, name="Renamed")
    assert renamed.client_name == "Renamed" and renamed.response_types == (ResponseType.CODE,)
    with pytest.raises(InvalidClientMetadata):
        await update_client(
            ctx=harness.ctx, client_id=client.client_id, response_types=[ResponseType.TOKEN]
        )
    with pytest.raises(InvalidRedirectUri):
        await update_client(
            ctx=harness.ctx, client_id=client.client_id, redirect_uris=["http://x.example/"]
        )
    with pytest.raises(InvalidRequest):
        await update_client(ctx=harness.ctx, client_id="nope", name="x")
    assert (
        await harness.ctx.stores.clients.get(client.client_id) == renamed
    )  # failures change nothing


CODE, IMPLICIT = GrantType.AUTHORIZATION_CODE, GrantType.IMPLICIT


@pytest.mark.parametrize(
    ("grants", "responses"),
    [
        (
            [GrantType.AUTHORIZATION_CODE, GrantType.IMPLICIT],
            (ResponseType.CODE, *IMPLICIT_RESPONSES),
        ),
        (
            [GrantType.IMPLICIT, GrantType.AUTHORIZATION_CODE],
            (*IMPLICIT_RESPONSES, ResponseType.CODE),
        ),
        ([GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN], (ResponseType.CODE,)),
        ([GrantType.IMPLICIT], IMPLICIT_RESPONSES),
    ],
)
async def test_response_types_default_to_those_of_the_grants(
    harness: Harness, grants: list[GrantType], responses: tuple[ResponseType, ...]
) -> None:
    client, _ = await harness.client(kind=ClientType.PUBLIC, grant_types=grants)
    assert client.response_types == responses


async def test_client_type_rules_are_read_from_the_grant_rows(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tokenpath.core.grants import registry

    machine = {"grant_types": [GrantType.CLIENT_CREDENTIALS], "redirect_uris": []}
    with pytest.raises(InvalidClientMetadata):
        await harness.client(kind=ClientType.PUBLIC, **machine)
    rows = tuple(
        replace(row, public_clients=True) if row.grant_type == GrantType.CLIENT_CREDENTIALS else row
        for row in registry.GRANTS
    )
    monkeypatch.setattr(registry, "GRANTS", rows)
    client, secret = await harness.client(kind=ClientType.PUBLIC, **machine)
    assert client.grant_types == (GrantType.CLIENT_CREDENTIALS,) and secret is None


MACHINE = {"grant_types": [GrantType.CLIENT_CREDENTIALS], "redirect_uris": []}


def _public_jwks() -> str:
    from joserfc.jwk import ECKey

    key = ECKey.generate_key("P-256", private=True)
    return json.dumps({"keys": [key.as_dict(private=False)]})


@pytest.mark.parametrize(
    "uri", ["https://client.example/jwks.json", "http://127.0.0.1:8080/jwks", "http://[::1]/k"]
)
async def test_jwks_uri_implies_private_key_jwt(harness: Harness, uri: str) -> None:
    client, secret = await harness.client(**MACHINE, jwks_uri=uri)
    assert secret is None and client.secret_hash is None
    assert client.token_endpoint_auth_method == "private_key_jwt"
    assert (client.jwks, client.jwks_uri) == (None, uri)
    assert await harness.ctx.stores.clients.get(client.client_id) == client


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"jwks_uri": "http://client.example/jwks"}, "jwks_uri must use https"),
        ({"jwks_uri": "http://localhost/jwks"}, "jwks_uri must use https"),
        ({"jwks_uri": "ftp://client.example/jwks"}, "jwks_uri must use https"),
        ({"jwks_uri": "https://client.example/jwks#k"}, "must not contain a fragment"),
        ({"jwks_uri": "/jwks.json"}, "absolute https URI"),
        ({"jwks_uri": "https://client.example:99999/k"}, "absolute https URI"),
        ({"jwks_uri": "https://u:p@client.example/k"}, "absolute https URI"),
        ({"jwks_uri": "https://client.example/" + "k" * 2000}, "absolute https URI"),
        ({"jwks_uri": "https://client.example/k", "jwks": "JWKS"}, "not both"),
        (
            {
                "jwks_uri": "https://c.example/k",
                "token_endpoint_auth_method": "client_secret_basic",
            },
            "only used with private_key_jwt",
        ),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "needs the client's jwks or jwks_uri"),
    ],
)
async def test_jwks_uri_rules(harness: Harness, options: dict[str, str], message: str) -> None:
    if options.get("jwks") == "JWKS":
        options = {**options, "jwks": _public_jwks()}
    with pytest.raises(InvalidClientMetadata) as raised:
        await harness.client(**MACHINE, **options)
    assert raised.value.error == "invalid_client_metadata" and message in raised.value.description
    assert await harness.ctx.stores.clients.list() == []


async def test_public_clients_take_no_jwks_uri(harness: Harness) -> None:
    with pytest.raises(InvalidClientMetadata):
        await harness.client(
            ClientType.PUBLIC, redirect_uris=["http://127.0.0.1/cb"], jwks_uri="https://c.example/k"
        )


async def test_update_replaces_one_key_source_with_the_other(harness: Harness) -> None:
    from tokenpath.core.registration import update_client

    client, _ = await harness.client(**MACHINE, jwks=_public_jwks())
    ctx = harness.ctx
    uri = "https://client.example/jwks.json"
    by_uri = await update_client(ctx=ctx, client_id=client.client_id, jwks_uri=uri)
    assert (by_uri.jwks, by_uri.jwks_uri) == (None, uri)
    renamed = await update_client(ctx=ctx, client_id=client.client_id, name="Renamed")
    assert renamed.jwks_uri == uri, "what is not given stays"
    inline = await update_client(ctx=ctx, client_id=client.client_id, jwks=_public_jwks())
    assert inline.jwks is not None and inline.jwks_uri is None
    assert await ctx.stores.clients.get(client.client_id) == inline
    secret_client, _ = await harness.client(**MACHINE)
    with pytest.raises(InvalidClientMetadata):
        await update_client(ctx=ctx, client_id=secret_client.client_id, jwks_uri=uri)
    with pytest.raises(InvalidClientMetadata):
        await update_client(ctx=ctx, client_id=client.client_id, jwks_uri="http://c.example/k")


@pytest.mark.parametrize("response", [ResponseType.ID_TOKEN, ResponseType.ID_TOKEN_TOKEN])
async def test_id_token_response_types_go_with_the_implicit_grant(
    harness: Harness, response: ResponseType
) -> None:
    """OIDC Core §3.2 response types are the implicit grant's: public clients holding it only."""
    client, _ = await harness.client(
        kind=ClientType.PUBLIC, grant_types=[GrantType.IMPLICIT], response_types=[response]
    )
    assert client.response_types == (response,)
    with pytest.raises(InvalidClientMetadata, match="needs grant_type implicit"):
        await harness.client(kind=ClientType.PUBLIC, response_types=[response])
    with pytest.raises(InvalidClientMetadata, match="only public clients"):
        await harness.client(grant_types=[GrantType.IMPLICIT], response_types=[response])
