import pytest

from tests.core.conftest import Harness
from tokenpath.core.client_auth import verify_client_secret
from tokenpath.core.errors import InvalidRequest
from tokenpath.core.records import ClientType, GrantType, ResponseType
from tokenpath.core.redirect_uris import InvalidRedirectUri
from tokenpath.core.registration import InvalidClientMetadata, create_user, register_client

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


async def test_update_client_policy(harness: Harness) -> None:
    from tokenpath.core.registration import update_client

    client, _ = await harness.client(
        kind=ClientType.PUBLIC, grant_types=[GrantType.AUTHORIZATION_CODE, GrantType.IMPLICIT]
    )
    assert client.response_types == (ResponseType.CODE, ResponseType.TOKEN)
    # restrict it to the code flow: the token response type goes with the implicit grant
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
