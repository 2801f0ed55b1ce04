"""Dynamic registration (RFC 7591) and client configuration (RFC 7592), as plain core calls."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from joserfc.jwk import ECKey

from tests.core.conftest import CB, VERIFIER, Harness, basic, make_ctx
from tokenpath.core.clock import hash_token
from tokenpath.core.dynamic_registration import (
    RegistrationRequest,
    create_initial_access_token,
    delete_registration,
    read_registration,
    register,
    update_registration,
)
from tokenpath.core.errors import InvalidRequest
from tokenpath.core.introspection import introspect
from tokenpath.core.messages import BackchannelRequest, ErrorPage, JsonResponse
from tokenpath.core.metadata import authorization_server_metadata
from tokenpath.core.records import ClientType

pytestmark = pytest.mark.anyio

WEB = {"client_name": "Notes", "redirect_uris": [CB], "scope": "openid notes:read"}


def request(body: object = None, token: str | None = None, **extra: Any) -> RegistrationRequest:
    return RegistrationRequest(
        body=b"" if body is None else json.dumps(body).encode(),
        content_type="application/json",
        authorization=f"Bearer {token}" if token is not None else None,
        **extra,
    )


async def registered(h: Harness, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    token = await create_initial_access_token(h.ctx)
    reply = await register(request(metadata or WEB, token), ctx=h.ctx)
    assert reply.status == 201, reply.body
    return dict(reply.body)


def challenge(reply: JsonResponse) -> None:
    """RFC 6750 §3: 401 ``invalid_token`` with a Bearer challenge."""
    assert reply.status == 401 and reply.body["error"] == "invalid_token"
    assert ("WWW-Authenticate", 'Bearer error="invalid_token"') in reply.headers


async def test_registration_answers_the_metadata_and_what_the_server_issued(
    harness: Harness,
) -> None:
    body = await registered(harness)
    client = await harness.ctx.stores.clients.get(body["client_id"])
    assert client is not None and client.dynamic and client.client_type is ClientType.CONFIDENTIAL
    assert body["client_id_issued_at"] == harness.clock.now() == client.created_at
    assert body["client_secret_expires_at"] == 0 and len(body["client_secret"]) >= 43
    assert body["registration_client_uri"] == f"https://as.example/register/{client.client_id}"
    assert client.registration_access_token_hash == hash_token(body["registration_access_token"])
    assert body["client_secret"] not in json.dumps(client.secret_hash)
    assert body["grant_types"] == ["authorization_code"] and body["response_types"] == ["code"]
    assert body["token_endpoint_auth_method"] == "client_secret_basic"
    assert (body["client_name"], body["redirect_uris"], body["scope"]) == (
        "Notes",
        [CB],
        "openid notes:read",
    )
    assert body["application_type"] == "web" and body["subject_type"] == "public"


async def test_the_registered_client_completes_a_code_flow(harness: Harness) -> None:
    body = await registered(harness)
    client = await harness.ctx.stores.clients.get(body["client_id"])
    assert client is not None
    reply = await harness.redeem(client, body["client_secret"], await harness.session())
    assert reply.status == 200 and "access_token" in reply.body


async def test_without_a_usable_initial_access_token_nothing_is_registered(
    harness: Harness,
) -> None:
    stores = harness.ctx.stores
    used_up = await create_initial_access_token(harness.ctx, uses=1)
    assert (await register(request(WEB, used_up), ctx=harness.ctx)).status == 201
    expiring = await create_initial_access_token(harness.ctx, expires_in=60)
    harness.clock.advance(60)
    for authorization in (None, "Bearer", "Basic abc", "Bearer wrong", f"Bearer {used_up}"):
        reply = await register(
            RegistrationRequest(
                body=json.dumps(WEB).encode(),
                content_type="application/json",
                authorization=authorization,
            ),
            ctx=harness.ctx,
        )
        challenge(reply)
    challenge(await register(request(WEB, expiring), ctx=harness.ctx))
    assert len(await stores.clients.list()) == 1


async def test_open_registration_needs_no_token_but_checks_one_that_is_sent(
    harness: Harness,
) -> None:
    reply = await register(request(WEB), ctx=harness.ctx, open_registration=True)
    assert reply.status == 201
    challenge(await register(request(WEB, "wrong"), ctx=harness.ctx, open_registration=True))


async def test_refused_metadata_costs_no_use_of_the_token(harness: Harness) -> None:
    token = await create_initial_access_token(harness.ctx, uses=1)
    bad = await register(
        request({**WEB, "redirect_uris": ["http://evil.example/cb"]}, token), ctx=harness.ctx
    )
    assert bad.status == 400 and bad.body["error"] == "invalid_redirect_uri"
    assert (await register(request(WEB, token), ctx=harness.ctx)).status == 201


async def test_concurrent_registrations_never_outrun_the_token(harness: Harness) -> None:
    token = await create_initial_access_token(harness.ctx, uses=2)
    replies = await asyncio.gather(
        *(register(request(WEB, token), ctx=harness.ctx) for _ in range(6))
    )
    assert sorted(r.status for r in replies) == [201, 201, 401, 401, 401, 401]
    assert len(await harness.ctx.stores.clients.list()) == 2


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"token_endpoint_auth_method": "none"}, ("none", None)),
        ({"token_endpoint_auth_method": "client_secret_post"}, ("client_secret_post", 0)),
        ({"grant_types": ["authorization_code", "refresh_token"]}, ("client_secret_basic", 0)),
    ],
)
async def test_auth_methods_and_secrets(
    harness: Harness, metadata: dict[str, Any], expected: tuple[str, int | None]
) -> None:
    body = await registered(harness, {**WEB, **metadata})
    assert (body["token_endpoint_auth_method"], body.get("client_secret_expires_at")) == expected
    assert ("client_secret" in body) == (expected[1] is not None)


async def test_defaults_name_the_client_by_its_host_and_offer_every_scope(
    harness: Harness,
) -> None:
    body = await registered(harness, {"redirect_uris": [CB]})
    assert body["client_name"] == "client.example"
    assert body["scope"].split() == list(harness.ctx.policy.scopes_supported)


async def test_response_types_alone_imply_their_grants(harness: Harness) -> None:
    body = await registered(harness, {**WEB, "response_types": ["code"]})
    assert body["grant_types"] == ["authorization_code"]
    machine = await registered(harness, {"grant_types": ["client_credentials"], "scope": "openid"})
    assert machine["response_types"] == [] and machine["redirect_uris"] == []


async def test_private_key_jwt_with_an_inline_key_set(harness: Harness) -> None:
    public = ECKey.generate_key("P-256").as_dict(private=False)
    body = await registered(harness, {**WEB, "jwks": {"keys": [public]}})
    assert body["token_endpoint_auth_method"] == "private_key_jwt"
    assert "client_secret" not in body and body["jwks"]["keys"][0]["x"] == public["x"]


async def test_read_update_delete_with_the_registration_access_token(harness: Harness) -> None:
    body = await registered(harness)
    client_id, token = body["client_id"], body["registration_access_token"]
    read = await read_registration(client_id, request(token=token), ctx=harness.ctx)
    assert read.status == 200 and read.body["client_name"] == "Notes"
    assert "client_secret" not in read.body and read.body["registration_access_token"] == token

    changed = {**WEB, "client_id": client_id, "client_name": "Notes 2", "scope": "openid"}
    changed["client_secret"] = body["client_secret"]
    updated = await update_registration(client_id, request(changed, token), ctx=harness.ctx)
    assert updated.status == 200, updated.body
    assert (updated.body["client_name"], updated.body["scope"]) == ("Notes 2", "openid")
    client = await harness.ctx.stores.clients.get(client_id)
    assert client is not None and client.client_name == "Notes 2"
    assert client.created_at == body["client_id_issued_at"]

    deleted = await delete_registration(client_id, request(token=token), ctx=harness.ctx)
    assert deleted.status == 204
    assert await harness.ctx.stores.clients.get(client_id) is None
    challenge(await read_registration(client_id, request(token=token), ctx=harness.ctx))


async def test_another_clients_token_or_none_is_401_never_404(harness: Harness) -> None:
    first, second = await registered(harness), await registered(harness)
    own = second["registration_access_token"]
    for client_id, token in [
        (first["client_id"], own),
        (first["client_id"], None),
        ("no-such-client", own),
        ("x" * 5000, own),
    ]:
        for call in (read_registration, delete_registration):
            challenge(await call(client_id, request(token=token), ctx=harness.ctx))
    assert await harness.ctx.stores.clients.get(first["client_id"]) is not None


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"client_id": "someone-else"}, "invalid_request"),
        ({"client_id": None}, "invalid_request"),
        ({"client_secret": "not-the-secret"}, "invalid_request"),
        ({"registration_access_token": "x"}, "invalid_request"),
        ({"client_id_issued_at": 1}, "invalid_request"),
        ({"token_endpoint_auth_method": "none"}, "invalid_client_metadata"),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"),
        ({"redirect_uris": ["https://client.example/cb#frag"]}, "invalid_redirect_uri"),
    ],
)
async def test_update_refusals_change_nothing(
    harness: Harness, change: dict[str, Any], error: str
) -> None:
    body = await registered(harness)
    client_id, token = body["client_id"], body["registration_access_token"]
    before = await harness.ctx.stores.clients.get(client_id)
    metadata = {k: v for k, v in {**WEB, "client_id": client_id, **change}.items() if v is not None}
    reply = await update_registration(client_id, request(metadata, token), ctx=harness.ctx)
    assert reply.status == 400 and reply.body["error"] == error, reply.body
    assert await harness.ctx.stores.clients.get(client_id) == before


async def test_a_secret_client_may_switch_between_basic_and_post(harness: Harness) -> None:
    body = await registered(harness)
    client_id, token = body["client_id"], body["registration_access_token"]
    metadata = {**WEB, "client_id": client_id, "token_endpoint_auth_method": "client_secret_post"}
    reply = await update_registration(client_id, request(metadata, token), ctx=harness.ctx)
    assert reply.status == 200 and reply.body["token_endpoint_auth_method"] == "client_secret_post"


async def test_a_deleted_client_can_do_nothing(harness: Harness) -> None:
    body = await registered(
        harness, {**WEB, "grant_types": ["authorization_code", "refresh_token"]}
    )
    client = await harness.ctx.stores.clients.get(body["client_id"])
    assert client is not None
    session = await harness.session()
    tokens = await harness.redeem(client, body["client_secret"], session)
    assert tokens.status == 200
    code = await harness.code(client, session)
    auth = basic(client.client_id, body["client_secret"])
    await delete_registration(
        client.client_id, request(token=body["registration_access_token"]), ctx=harness.ctx
    )
    redeem = {"grant_type": "authorization_code", "code": code, "redirect_uri": CB}
    refresh = {"grant_type": "refresh_token", "refresh_token": str(tokens.body["refresh_token"])}
    for form in ({**redeem, "code_verifier": VERIFIER}, refresh):
        assert (await harness.token(form, auth)).status == 401
    other, other_secret = await harness.client()
    assert other_secret is not None
    introspected = await introspect(
        BackchannelRequest(
            form=(("token", str(tokens.body["access_token"])),),
            authorization=basic(other.client_id, other_secret),
        ),
        ctx=harness.ctx,
    )
    assert introspected.body == {"active": False}
    authorize = await harness.authorize(
        session, response_type="code", client_id=client.client_id, redirect_uri=CB
    )
    assert isinstance(authorize, ErrorPage)


async def test_initial_access_token_limits_must_be_positive() -> None:
    ctx = make_ctx()
    for uses, expires_in in ((0, 10), (1, 0), (-1, None)):
        with pytest.raises(InvalidRequest, match="positive"):
            await create_initial_access_token(ctx, uses=uses, expires_in=expires_in)


def test_discovery_names_the_registration_endpoint() -> None:
    meta = authorization_server_metadata(make_ctx().policy)
    assert meta["registration_endpoint"] == "https://as.example/register"


async def test_require_pushed_authorization_requests_is_registered_and_replaced(
    harness: Harness,
) -> None:
    """RFC 9126 §6: the client metadata is a boolean; absent is false."""
    body = await registered(harness, {**WEB, "require_pushed_authorization_requests": True})
    assert body["require_pushed_authorization_requests"] is True
    client = await harness.ctx.stores.clients.get(body["client_id"])
    assert client is not None and client.require_pushed_authorization_requests
    token = body["registration_access_token"]
    replaced = {**WEB, "client_id": body["client_id"]}
    reply = await update_registration(body["client_id"], request(replaced, token), ctx=harness.ctx)
    assert reply.status == 200 and reply.body["require_pushed_authorization_requests"] is False
    token = await create_initial_access_token(harness.ctx)
    wrong = {**WEB, "require_pushed_authorization_requests": "yes"}
    refused = await register(request(wrong, token), ctx=harness.ctx)
    assert refused.status == 400 and refused.body["error"] == "invalid_client_metadata"
