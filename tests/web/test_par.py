"""``/par`` and ``/authorize?request_uri=`` over real ASGI (RFC 9126): what a client and a
browser see on the wire, on the memory stores and on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from tests.web.conftest import CB, Server, forms, serve
from tests.web.test_endpoints import VERIFIER, basic
from tokenpath.core.pkce import s256
from tokenpath.core.pushed_requests import REQUEST_URI_PREFIX
from tokenpath.core.records import ClientType
from tokenpath.storage.sql import open_database

pytestmark = pytest.mark.anyio

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def authorization_request(client_id: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CB,
        "scope": "openid notes:read",
        "state": "s t+a/te",
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
    }


async def push(server: Server, body: dict[str, str], authorization: str) -> httpx.Response:
    headers = {**FORM, "Authorization": authorization}
    return await server.http.post("/par", content=urlencode(body), headers=headers)


@pytest.fixture
async def sql_server(db_url: str) -> AsyncIterator[Server]:
    database = await open_database(db_url)
    try:
        async for server in serve(database.stores):
            yield server
    finally:
        await database.close()


async def test_pushed_sign_in_never_puts_the_parameters_in_a_url(sql_server: Server) -> None:
    server = sql_server
    await server.user()
    client, secret = await server.client()
    assert secret is not None
    pushed = await push(
        server, authorization_request(client.client_id), basic(client.client_id, secret)
    )
    assert pushed.status_code == 201 and pushed.headers["cache-control"] == "no-store"
    request_uri = pushed.json()["request_uri"]
    assert request_uri.startswith(REQUEST_URI_PREFIX) and pushed.json()["expires_in"] == 60

    start = "/authorize?" + urlencode({"client_id": client.client_id, "request_uri": request_uri})
    login_page = await server.http.get(start)
    assert login_page.status_code == 200
    login_form = forms(login_page.text)[0]
    return_to = dict(parse_qsl(urlsplit(login_form.value("return_to")).query))
    assert set(return_to) == {"client_id", "request_uri"}
    signed_in = await server.submit(login_form, username="alice", password="correct horse battery")
    back = signed_in.headers["location"]
    assert set(dict(parse_qsl(urlsplit(back).query))) == {"client_id", "request_uri"}

    consent_page = await server.http.get(back)
    consent_form = forms(consent_page.text)[0]
    assert {name for name, _ in consent_form.fields} == {"client_id", "request_uri", "csrf"}
    assert "scope" not in consent_page.text.split("<form", 1)[1].split("</form>", 1)[0]
    approved = await server.submit(consent_form, ("decision", "approve"))
    assert approved.status_code == 303 and approved.headers["location"].startswith(CB + "?")
    answer = dict(parse_qsl(urlsplit(approved.headers["location"]).query))
    assert answer["state"] == "s t+a/te"

    tokens = await server.post_form(
        "/token",
        [
            ("grant_type", "authorization_code"),
            ("code", answer["code"]),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
        Authorization=basic(client.client_id, secret),
    )
    assert tokens.status_code == 200, tokens.text

    replayed = await server.http.get(start)  # the pushed URI was taken on first use
    assert replayed.status_code == 400 and "location" not in replayed.headers
    assert "invalid_request" in replayed.text


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_par_answers_other_methods_405_in_json(server: Server, method: str) -> None:
    response = await server.http.request(method, "/par")
    assert response.status_code == 405 and response.headers["allow"] == "OPTIONS, POST"
    assert response.json()["error"] == "invalid_request"


async def test_par_errors_are_json(server: Server) -> None:
    client, secret = await server.client()
    assert secret is not None
    wrong = await push(
        server, authorization_request(client.client_id), basic(client.client_id, "x")
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert wrong.headers["www-authenticate"].startswith("Basic")
    bad = await push(
        server,
        {**authorization_request(client.client_id), "request_uri": REQUEST_URI_PREFIX + "x"},
        basic(client.client_id, secret),
    )
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_request"
    not_a_form = await server.http.post(
        "/par", content=b"{}", headers={"Content-Type": "application/json"}
    )
    assert not_a_form.status_code == 400 and not_a_form.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "path", ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"]
)
async def test_discovery_names_the_endpoint_and_the_requirement(server: Server, path: str) -> None:
    document = (await server.http.get(path)).json()
    assert document["pushed_authorization_request_endpoint"] == f"{server.settings.issuer}/par"
    assert document["require_pushed_authorization_requests"] is False


async def test_the_server_setting_shows_in_discovery() -> None:
    from tokenpath.storage.memory import memory_stores

    async for server in serve(memory_stores(), require_pushed_authorization_requests=True):
        document = (await server.http.get("/.well-known/oauth-authorization-server")).json()
        assert document["require_pushed_authorization_requests"] is True


async def test_a_dpop_proof_reaches_par_from_a_browser_origin_with_its_nonce() -> None:
    """RFC 9449 §10.1 over HTTP: the DPoP header is read at /par, a browser app may send it and
    read the DPoP-Nonce a use_dpop_nonce answer carries (CORS)."""
    from tests.support.dpop import Prover
    from tokenpath.storage.memory import memory_stores

    spa = "http://127.0.0.1:9003"
    async for server in serve(memory_stores(), cors_origins=[spa], require_dpop_nonce=True):
        client, _ = await server.client(ClientType.PUBLIC)
        key, url = Prover(), f"{server.settings.issuer}/par"
        body = urlencode(authorization_request(client.client_id))

        headers = {**FORM, "Origin": spa}
        asked = await server.http.post(
            "/par", content=body, headers={**headers, "DPoP": key.proof("POST", url)}
        )
        assert asked.status_code == 400 and asked.json()["error"] == "use_dpop_nonce"
        assert asked.headers["access-control-expose-headers"] == "DPoP-Nonce"
        retry = key.proof("POST", url, nonce=asked.headers["dpop-nonce"])
        pushed = await server.http.post("/par", content=body, headers={**headers, "DPoP": retry})
        assert pushed.status_code == 201, pushed.text
        assert pushed.headers["access-control-allow-origin"] == spa
