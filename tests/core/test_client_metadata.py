"""Bad registration bodies: each is a 400 with the RFC 7591 §3.2.2 code, and nothing is stored."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.conftest import CB, Harness, make_ctx
from tokenpath.core.client_metadata import MAX_METADATA_BYTES, parse_metadata
from tokenpath.core.dynamic_registration import (
    RegistrationRequest,
    create_initial_access_token,
    register,
)
from tokenpath.core.errors import OAuthError
from tokenpath.core.records import GrantType, ResponseType

pytestmark = pytest.mark.anyio

GOOD = {"redirect_uris": [CB]}
METADATA = "invalid_client_metadata"
JSON_TYPE = "application/json"


def encoded(value: object) -> bytes:
    return json.dumps(value).encode()


BAD_BODIES: list[tuple[bytes, str, str]] = [
    (b"{", JSON_TYPE, "invalid_request"),
    (b"", JSON_TYPE, "invalid_request"),
    (b"\xff\xfe{}", JSON_TYPE, "invalid_request"),
    (b'{"redirect_uris": NaN}', JSON_TYPE, "invalid_request"),
    (b"[" * 5000 + b"]" * 5000, JSON_TYPE, "invalid_request"),
    (encoded(GOOD), "application/x-www-form-urlencoded", "invalid_request"),
    (encoded(GOOD), "", "invalid_request"),
    (b"[]", JSON_TYPE, METADATA),
    (b'"redirect_uris"', JSON_TYPE, METADATA),
    (b'{"redirect_uris": ["https://a.example/cb"], "redirect_uris": []}', JSON_TYPE, METADATA),
    (encoded({**GOOD, "client_name": "x" * MAX_METADATA_BYTES}), JSON_TYPE, METADATA),
    (encoded({**GOOD, "unknown_member": 1}), JSON_TYPE, METADATA),
    (encoded({**GOOD, "x" * 5000: 1}), JSON_TYPE, METADATA),
    (encoded({**GOOD, "logo_uri": "https://client.example/logo.png"}), JSON_TYPE, METADATA),
    (encoded({**GOOD, "contacts": ["a@client.example"]}), JSON_TYPE, METADATA),
    (encoded({"redirect_uris": CB}), JSON_TYPE, METADATA),
    (encoded({"redirect_uris": [CB, 7]}), JSON_TYPE, METADATA),
    (encoded({**GOOD, "client_name": ["a"]}), JSON_TYPE, METADATA),
    (encoded({**GOOD, "client_name": ""}), JSON_TYPE, METADATA),
    (encoded({**GOOD, "jwks": "not an object"}), JSON_TYPE, METADATA),
    (encoded({**GOOD, "scope": 3}), JSON_TYPE, METADATA),
    (encoded({**GOOD, "scope": "openid admin"}), JSON_TYPE, METADATA),
    (encoded({**GOOD, "grant_types": ["password"]}), JSON_TYPE, METADATA),
    (encoded({**GOOD, "grant_types": ["implicit"]}), JSON_TYPE, METADATA),
    (encoded({**GOOD, "response_types": ["token"]}), JSON_TYPE, METADATA),
    (encoded({**GOOD, "response_types": ["code token"]}), JSON_TYPE, METADATA),
    (encoded({**GOOD, "grant_types": ["refresh_token"]}), JSON_TYPE, METADATA),
    (encoded({**GOOD, "grant_types": ["client_credentials"], "response_types": ["code"]}),
     JSON_TYPE, METADATA),
    (encoded({**GOOD, "token_endpoint_auth_method": "tls_client_auth"}), JSON_TYPE, METADATA),
    (encoded({**GOOD, "token_endpoint_auth_method": "private_key_jwt"}), JSON_TYPE, METADATA),
    (encoded({**GOOD, "token_endpoint_auth_method": "private_key_jwt",
              "jwks": {"keys": []}, "jwks_uri": "https://client.example/jwks"}),
     JSON_TYPE, METADATA),
    (encoded({**GOOD, "jwks_uri": "http://client.example/jwks"}), JSON_TYPE, METADATA),
    (encoded({**GOOD, "subject_type": "random"}), JSON_TYPE, METADATA),
    (encoded({**GOOD, "subject_type": "pairwise"}), JSON_TYPE, METADATA),
    (encoded({**GOOD, "application_type": "desktop"}), JSON_TYPE, METADATA),
    (encoded({**GOOD, "id_token_signed_response_alg": "none"}), JSON_TYPE, METADATA),
    (encoded({**GOOD, "backchannel_logout_uri": "http://client.example/bc"}), JSON_TYPE, METADATA),
    (encoded({**GOOD, "backchannel_logout_uri": "https://client.example/bc#x"}),
     JSON_TYPE, METADATA),
    (encoded({"redirect_uris": []}), JSON_TYPE, "invalid_redirect_uri"),
    (encoded({}), JSON_TYPE, "invalid_redirect_uri"),
    (encoded({"redirect_uris": ["https://client.example/cb#f"]}), JSON_TYPE,
     "invalid_redirect_uri"),
    (encoded({"redirect_uris": ["http://client.example/cb"]}), JSON_TYPE, "invalid_redirect_uri"),
    (encoded({"redirect_uris": ["https://*.example/cb"]}), JSON_TYPE, "invalid_redirect_uri"),
    (encoded({"redirect_uris": ["not a uri"]}), JSON_TYPE, "invalid_redirect_uri"),
    (encoded({"redirect_uris": ["https://[::1/cb"]}), JSON_TYPE, "invalid_redirect_uri"),
    (encoded({"redirect_uris": ["javascript:alert(1)"]}), JSON_TYPE, "invalid_redirect_uri"),
    # a private-use scheme is for native public clients only (RFC 8252 §7.1)
    (encoded({"redirect_uris": ["com.example.app:/cb"], "token_endpoint_auth_method": "none"}),
     JSON_TYPE, "invalid_redirect_uri"),
    (encoded({"redirect_uris": ["com.example.app:/cb"], "application_type": "native"}),
     JSON_TYPE, "invalid_redirect_uri"),
    (encoded({**GOOD, "post_logout_redirect_uris": ["http://client.example/bye"]}), JSON_TYPE,
     "invalid_redirect_uri"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "content_type", "error"), BAD_BODIES)
async def test_bad_bodies_are_400_and_store_nothing(
    harness: Harness, body: bytes, content_type: str, error: str
) -> None:
    token = await create_initial_access_token(harness.ctx, uses=1)
    request = RegistrationRequest(
        body=body, content_type=content_type, authorization=f"Bearer {token}"
    )
    reply = await register(request, ctx=harness.ctx)
    assert (reply.status, reply.body["error"]) == (400, error), reply.body
    assert await harness.ctx.stores.clients.list() == []
    # the token was not used up by the refused request
    good = RegistrationRequest(
        body=encoded(GOOD), content_type=JSON_TYPE, authorization=f"Bearer {token}"
    )
    assert (await register(good, ctx=harness.ctx)).status == 201


async def test_what_is_accepted_and_how_it_is_stored(harness: Harness) -> None:
    metadata = {
        "redirect_uris": ["com.example.app:/cb", "http://127.0.0.1/cb"],
        "token_endpoint_auth_method": "none",
        "application_type": "native",
        "grant_types": ["authorization_code", "refresh_token"],
        "post_logout_redirect_uris": ["com.example.app:/bye"],
        "id_token_signed_response_alg": "ES256",
        "client_uri": None,
        "client_id": "chosen",
        "client_secret": "chosen",
    }
    token = await create_initial_access_token(harness.ctx)
    request = RegistrationRequest(
        body=encoded(metadata), content_type=JSON_TYPE, authorization=f"Bearer {token}"
    )
    reply = await register(request, ctx=harness.ctx)
    assert reply.status == 201, reply.body
    assert reply.body["client_id"] != "chosen" and "client_secret" not in reply.body
    client = await harness.ctx.stores.clients.get(str(reply.body["client_id"]))
    assert client is not None and client.is_public and client.application_type == "native"
    assert client.post_logout_redirect_uris == ("com.example.app:/bye",)
    assert reply.body["post_logout_redirect_uris"] == ["com.example.app:/bye"]


async def test_implicit_and_pairwise_follow_the_server_switches() -> None:
    ctx = make_ctx(allow_implicit=True, pairwise_salt="s" * 32)
    token = await create_initial_access_token(ctx, uses=None)
    for metadata in (
        {**GOOD, "token_endpoint_auth_method": "none", "response_types": ["token"]},
        {**GOOD, "subject_type": "pairwise", "backchannel_logout_uri": "https://client.example/bc"},
    ):
        request = RegistrationRequest(
            body=encoded(metadata), content_type=JSON_TYPE, authorization=f"Bearer {token}"
        )
        reply = await register(request, ctx=ctx)
        assert reply.status == 201, reply.body
    two_hosts = {"redirect_uris": [CB, "https://other.example/cb"], "subject_type": "pairwise"}
    request = RegistrationRequest(
        body=encoded(two_hosts), content_type=JSON_TYPE, authorization=f"Bearer {token}"
    )
    assert (await register(request, ctx=ctx)).body["error"] == METADATA


def test_parsing_keeps_the_vocabulary_typed() -> None:
    parsed = parse_metadata(
        encoded({"grant_types": ["authorization_code"], "response_types": ["code"]}),
        "application/json; charset=utf-8",
        update=False,
    )
    assert parsed.grant_types == (GrantType.AUTHORIZATION_CODE,)
    assert parsed.response_types == (ResponseType.CODE,)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=20), inner),
    max_leaves=12,
)
MEMBERS = st.sampled_from(["redirect_uris", "grant_types", "scope", "jwks", "client_name"])


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(MEMBERS | st.text(max_size=10), JSONISH, max_size=5) | JSONISH)
def test_any_json_is_parsed_or_refused_with_an_oauth_error(value: object) -> None:
    """Property: no JSON value makes parsing raise anything but an OAuth error."""
    try:
        parse_metadata(encoded(value), JSON_TYPE, update=False)
    except OAuthError as error:
        assert error.error in ("invalid_request", METADATA)
