"""Registered APIs (``core/apis.py``): identifiers, scopes with consent texts, credentials, and
the clients allowed on them."""

from __future__ import annotations

import pytest

from tests.core.conftest import AUDIENCE, Harness
from tokenpath.core.apis import (
    add_api,
    client_apis,
    delete_api,
    parse_scope_option,
    update_api,
    validate_identifier,
)
from tokenpath.core.auth_metadata import InvalidClientMetadata
from tokenpath.core.errors import InvalidRequest
from tokenpath.core.records import ApiScope, ClientType, GrantType

pytestmark = pytest.mark.anyio
BILLING = "https://billing.example/api"
READ = ApiScope(name="billing:read", description="Read your invoices")


@pytest.mark.parametrize(
    "identifier",
    [
        "https://api.example",
        "https://api.example/v1?tenant=a",
        "http://127.0.0.1:9001",
        "http://[::1]:8080/notes",
        "http://localhost:3000",
    ],
)
def test_valid_identifiers(identifier: str) -> None:
    assert validate_identifier(identifier) == identifier


@pytest.mark.parametrize(
    "identifier",
    [
        "",
        "api.example",  # relative
        "/notes",  # relative
        "https://api.example/#frag",  # RFC 8707 §2: no fragment
        "http://api.example",  # http off loopback
        "https://user@api.example",
        "https://api.example/a b",
        "https://api.example/\x00",
        "https://api.example:99999",
        "urn:example:api",  # no host
        "https://" + "a" * 2000 + ".example",
    ],
)
def test_invalid_identifiers(identifier: str) -> None:
    with pytest.raises(InvalidRequest):
        validate_identifier(identifier)


def test_scope_option_is_name_equals_description() -> None:
    assert parse_scope_option("notes:read=Read your notes") == ApiScope(
        name="notes:read", description="Read your notes"
    )
    assert parse_scope_option("a=b=c").description == "b=c"


@pytest.mark.parametrize(
    "option",
    [
        "notes:read",  # no description
        "notes read=Two words",
        "bad\x01=Control character",
        'quo"te=Quote',
        "=No name",
        "notes:read=",
        "notes:read=" + "x" * 301,  # a huge description
        "notes:read=Line\nbreak",
        "openid=Built in",
        "n" * 101 + "=Long name",
    ],
)
def test_bad_scopes_are_refused(option: str) -> None:
    with pytest.raises(InvalidRequest):
        parse_scope_option(option)


async def test_add_creates_credentials_that_get_no_tokens(harness: Harness) -> None:
    api, secret = await add_api(harness.ctx, identifier=BILLING, scopes=[READ])
    assert len(secret) >= 43 and api.scope_names == ("billing:read",)
    credentials = await harness.ctx.stores.clients.get(api.client_id)
    assert credentials is not None and credentials.client_type is ClientType.CONFIDENTIAL
    assert credentials.grant_types == () and credentials.secret_hash != secret
    assert await harness.ctx.stores.apis.get_by_client(api.client_id) == api


async def test_refusals_store_nothing(harness: Harness) -> None:
    ctx = harness.ctx
    before = len(await ctx.stores.clients.list())
    refusals = [
        {"identifier": "billing.example", "scopes": [READ]},
        {"identifier": BILLING, "scopes": [READ, READ]},
        {"identifier": BILLING, "scopes": [READ], "token_format": "paseto"},
        {"identifier": BILLING, "scopes": [READ], "access_token_lifetime": 0},
        {"identifier": BILLING, "scopes": [READ], "claims": {"aud": "x"}},
        {"identifier": BILLING, "scopes": [READ], "claims": {"big": "x" * 5000}},
        # a scope another API defines: a scope name says which API it is for
        {"identifier": BILLING, "scopes": [ApiScope(name="notes:read", description="Mine")]},
        {"identifier": AUDIENCE, "scopes": [READ]},  # already registered
    ]
    for refused in refusals:
        with pytest.raises(InvalidRequest):
            await add_api(ctx, **refused)  # type: ignore[arg-type]
    assert len(await ctx.stores.clients.list()) == before
    assert await ctx.stores.apis.get(BILLING) is None


async def test_update_and_delete(harness: Harness) -> None:
    ctx = harness.ctx
    api, _ = await add_api(ctx, identifier=BILLING, scopes=[READ])
    write = ApiScope(name="billing:write", description="Pay invoices")
    updated = await update_api(
        ctx, BILLING, scopes=[READ, write], token_format="opaque", claims={"tenant": "t1"}
    )
    assert updated.scope_names == ("billing:read", "billing:write")
    assert (updated.token_format, updated.claims) == ("opaque", '{"tenant":"t1"}')
    assert updated.client_id == api.client_id
    with pytest.raises(InvalidRequest):
        await update_api(ctx, "https://nowhere.example", token_format="jwt")
    assert await delete_api(ctx, BILLING) is True
    assert await ctx.stores.apis.get(BILLING) is None
    assert await ctx.stores.clients.get(api.client_id) is None  # its credentials are gone
    assert await delete_api(ctx, BILLING) is False


async def test_a_client_scope_must_be_openid_or_of_its_apis(harness: Harness) -> None:
    await add_api(harness.ctx, identifier=BILLING, scopes=[READ])
    client, _ = await harness.client(scopes="openid billing:read", resources=[BILLING])
    assert client.resources == (BILLING,)
    with pytest.raises(InvalidClientMetadata, match="billing:read"):
        await harness.client(scopes="openid billing:read")  # only the default API
    with pytest.raises(InvalidClientMetadata, match="notes:read"):
        await harness.client(scopes="notes:read", resources=[BILLING])
    with pytest.raises(InvalidClientMetadata, match="no API"):
        await harness.client(scopes="openid", resources=["https://unknown.example"])
    with pytest.raises(InvalidClientMetadata, match="default resource"):
        await harness.client(scopes="openid", resources=[BILLING], default_resource=AUDIENCE)


async def test_client_apis_put_the_default_first(harness: Harness) -> None:
    await add_api(harness.ctx, identifier=BILLING, scopes=[READ])
    client, _ = await harness.client(
        scopes="openid notes:read billing:read",
        resources=[AUDIENCE, BILLING],
        default_resource=BILLING,
        grant_types=[GrantType.AUTHORIZATION_CODE],
    )
    assert client_apis(client, None) == (BILLING, AUDIENCE)
    bare, _ = await harness.client(scopes="openid")
    assert client_apis(bare, AUDIENCE) == (AUDIENCE,) and client_apis(bare, None) == ()
