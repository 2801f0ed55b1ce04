"""``/register`` and ``/register/{client_id}`` over real ASGI (RFC 7591, RFC 7592), and the
interstitial page a dynamic client's early errors wait behind (RFC 9700 §4.11.2)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from tests.web.conftest import CB, PASSWORD, Server, forms, serve
from tests.web.test_endpoints import VERIFIER, authorize_query, basic
from tokenpath.core.dynamic_registration import create_initial_access_token
from tokenpath.settings import Settings
from tokenpath.storage.memory import memory_stores

pytestmark = pytest.mark.anyio

METADATA = {"client_name": "Registered app", "redirect_uris": [CB], "scope": "openid notes:read"}


async def register(server: Server, metadata: object = None, **headers: str) -> httpx.Response:
    token = await create_initial_access_token(server.ctx)
    return await server.http.post(
        "/register",
        json=METADATA if metadata is None else metadata,
        headers={"Authorization": f"Bearer {token}", **headers},
    )


@pytest.fixture
async def open_server() -> AsyncIterator[Server]:
    async for s in serve(memory_stores(), allow_open_registration=True):
        yield s


async def test_a_registered_client_signs_a_user_in(server: Server) -> None:
    response = await register(server)
    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert (
        body["registration_client_uri"] == f"{server.settings.issuer}/register/{body['client_id']}"
    )

    await server.user()
    login = await server.http.get(authorize_query(body["client_id"]))
    signed_in = await server.submit(forms(login.text)[0], username="alice", password=PASSWORD)
    consent = await server.http.get(signed_in.headers["location"])
    assert "Registered app" in consent.text
    approved = await server.submit(forms(consent.text)[0], ("decision", "approve"))
    code = dict(parse_qsl(urlsplit(approved.headers["location"]).query))["code"]
    form = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", CB)]
    token = await server.post_form(
        "/token",
        [*form, ("code_verifier", VERIFIER)],
        Authorization=basic(body["client_id"], body["client_secret"]),
    )
    assert token.status_code == 200, token.text


async def test_no_token_is_401_with_a_bearer_challenge(server: Server) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}):
        response = await server.http.post("/register", json=METADATA, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        assert response.json()["error"] == "invalid_token"
    assert await server.ctx.stores.clients.list() == []


@pytest.mark.parametrize(
    ("content", "content_type", "error"),
    [
        (b"{not json", "application/json", "invalid_request"),
        (b"redirect_uris=x", "application/x-www-form-urlencoded", "invalid_request"),
        (json.dumps({**METADATA, "client_name": "x" * 40_000}).encode(), "application/json",
         "invalid_client_metadata"),
        (b"{" + b'"a":' * 3000 + b"1" + b"}" * 3000, "application/json", "invalid_request"),
        (json.dumps({**METADATA, "software_statement": "x"}).encode(), "application/json",
         "invalid_client_metadata"),
        (json.dumps({**METADATA, "redirect_uris": [1]}).encode(), "application/json",
         "invalid_client_metadata"),
        (json.dumps({**METADATA, "redirect_uris": ["https://a.example/#x"]}).encode(),
         "application/json", "invalid_redirect_uri"),
    ],
)  # fmt: skip
async def test_bad_bodies_are_400_never_500_and_store_nothing(
    server: Server, content: bytes, content_type: str, error: str
) -> None:
    token = await create_initial_access_token(server.ctx)
    response = await server.http.post(
        "/register",
        content=content,
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == error
    assert await server.ctx.stores.clients.list() == []


async def test_read_update_delete_over_http(server: Server) -> None:
    body = (await register(server)).json()
    uri = urlsplit(body["registration_client_uri"]).path
    auth = {"Authorization": f"Bearer {body['registration_access_token']}"}
    read = await server.http.get(uri, headers=auth)
    assert read.status_code == 200 and read.json()["client_id"] == body["client_id"]
    assert read.headers["cache-control"] == "no-store"

    changed: dict[str, Any] = {**METADATA, "client_id": body["client_id"], "client_name": "New"}
    updated = await server.http.put(uri, json=changed, headers=auth)
    assert updated.status_code == 200 and updated.json()["client_name"] == "New"

    assert (await server.http.get(uri)).status_code == 401
    assert (await server.http.post(uri, json=changed, headers=auth)).status_code == 405
    assert (await server.http.post(uri, headers=auth)).json()["error"] == "invalid_request"
    deleted = await server.http.delete(uri, headers=auth)
    assert deleted.status_code == 204 and deleted.content == b""
    gone = await server.http.get(uri, headers=auth)
    assert gone.status_code == 401 and gone.json()["error"] == "invalid_token"
    assert await server.ctx.stores.clients.get(body["client_id"]) is None


async def test_open_registration_needs_no_token(open_server: Server) -> None:
    response = await open_server.http.post("/register", json=METADATA)
    assert response.status_code == 201, response.text


def test_open_registration_is_reported_as_a_weakening() -> None:
    assert "allow_open_registration" in Settings(allow_open_registration=True).weakened()
    assert "allow_open_registration" not in Settings().weakened()


async def test_discovery_advertises_the_endpoint(server: Server) -> None:
    metadata = (await server.http.get("/.well-known/oauth-authorization-server")).json()
    assert metadata["registration_endpoint"] == f"{server.settings.issuer}/register"


async def test_an_early_error_shows_the_interstitial_not_a_redirect(server: Server) -> None:
    body = (await register(server)).json()
    page = await server.http.get(authorize_query(body["client_id"], scope="admin"))
    assert page.status_code == 400 and "location" not in page.headers
    assert "client.example" in page.text and "invalid_scope" in page.text
    found = re.search(r'<a class="button" href="([^"]+)"', page.text)
    assert found is not None
    link = html.unescape(found.group(1))
    assert link.startswith(f"{CB}?error=invalid_scope")
    sent = dict(parse_qsl(urlsplit(link).query))
    assert sent["state"] == "s t+a/te" and sent["iss"] == server.settings.issuer
    # an operator-registered client is sent back at once
    client, _ = await server.client()
    direct = await server.http.get(authorize_query(client.client_id, scope="admin"))
    assert direct.status_code == 302


async def test_a_form_post_error_waits_behind_a_form_without_script(server: Server) -> None:
    body = (await register(server)).json()
    page = await server.http.get(
        authorize_query(body["client_id"], scope="admin", response_mode="form_post")
    )
    assert page.status_code == 400 and "<script" not in page.text
    form = forms(page.text)[0]
    assert form.action == CB and form.value("error") == "invalid_scope"
