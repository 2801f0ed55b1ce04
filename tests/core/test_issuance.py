"""Minting and the one rendering of a token response (RFC 6749 §5.1; RFC 9068 §2.2)."""

from __future__ import annotations

import pytest

from tests.core.conftest import Harness
from tokenpath.core.issuance import TokenResponse, issue_access_token
from tokenpath.core.records import GrantType

pytestmark = pytest.mark.anyio


def test_body_has_the_required_members_in_order_and_omits_what_is_absent() -> None:
    body = TokenResponse(access_token="at", expires_in=60, scope=("openid", "notes:read")).body()
    assert body == {
        "access_token": "at",
        "token_type": "Bearer",
        "expires_in": 60,
        "scope": "openid notes:read",
    }
    assert list(body) == ["access_token", "token_type", "expires_in", "scope"]


def test_optional_members_appear_when_present() -> None:
    full = TokenResponse(
        access_token="at",
        expires_in=60,
        scope=("openid",),
        refresh_token="rt",
        id_token="it",
        issued_token_type="urn:ietf:params:oauth:token-type:access_token",
    ).body()
    assert list(full)[4:] == ["refresh_token", "id_token", "issued_token_type"]
    assert (full["refresh_token"], full["id_token"]) == ("rt", "it")


async def test_an_issued_token_answers_with_its_own_lifetime_and_scope(harness: Harness) -> None:
    issued = await issue_access_token(
        harness.ctx,
        grant_id=None,
        client_id="machine",
        subject="machine",
        scope=("notes:read",),
        grant_type=GrantType.CLIENT_CREDENTIALS,
        lifetime=123,
        opaque=True,
    )
    response = issued.token_response(refresh_token="rt")
    assert response == TokenResponse(
        access_token=issued.token, expires_in=123, scope=("notes:read",), refresh_token="rt"
    )
    assert issued.token_response().refresh_token is None
