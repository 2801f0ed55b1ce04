"""The demo API through its real ASGI stack: endpoints, scopes, CORS, bearer semantics, logs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.resource.support import AUDIENCE, NOW, TokenIssuer
from tests.support.dpop import Prover
from tests.support.servers import serve_asgi
from tokenpath.core.clock import FixedClock
from tokenpath.resource import JwtValidator, create_demo_api
from tokenpath.resource.demo_api import MAX_BODY, MAX_NOTE, MAX_NOTES, SEED_NOTES

pytestmark = pytest.mark.anyio
SPA = "http://127.0.0.1:9003"
ALGS = 'algs="ES256 EdDSA RS256 PS256"'
PREFLIGHT = {
    "Access-Control-Request-Method": "GET",
    "Access-Control-Request-Headers": "authorization",
}


@pytest.fixture
def validator(issuer: TokenIssuer, clock: FixedClock) -> JwtValidator:
    return JwtValidator(issuer=issuer.url, audience=AUDIENCE, jwks_uri=issuer.jwks_uri, clock=clock)


@pytest.fixture
async def api(validator: JwtValidator) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_demo_api(validator, cors_origins=[SPA]))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_health_needs_nothing(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    garbled = await api.get("/api/health", headers={"Authorization": "Bearer a b"})
    assert garbled.status_code == 200


async def test_me_tells_what_the_token_says(api: httpx.AsyncClient, issuer: TokenIssuer) -> None:
    token = issuer.sign(scope="notes:write notes:read", gty="client_credentials")
    response = await api.get("/api/me", headers=bearer(token))
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    me = response.json()
    assert me["sub"] == "alice" and me["client_id"] == "notes-app"
    assert me["scopes"] == ["notes:read", "notes:write"] and me["scope"] == "notes:read notes:write"
    assert me["exp"] == NOW + 540 and me["grant_type"] == "client_credentials"
    assert "Anyone holding this token can call this API" in me["bearer"]
    assert token not in response.text


async def test_anyone_holding_the_token_can_call(
    issuer: TokenIssuer, validator: JwtValidator
) -> None:
    """Bearer semantics (RFC 6750 §1.2): a second, unrelated client over real HTTP succeeds
    with the same token — no cookie, no client identity, nothing but the token is checked."""
    token = issuer.sign()
    with serve_asgi(create_demo_api(validator)) as url:
        async with httpx.AsyncClient(headers={"User-Agent": "notes-app/1.0"}) as owner:
            mine = await owner.get(f"{url}/api/me", headers=bearer(token))
        async with httpx.AsyncClient(headers={"User-Agent": "someone-else/0.1"}) as thief:
            stolen = await thief.get(f"{url}/api/me", headers=bearer(token))
            notes = await thief.get(f"{url}/api/notes", headers=bearer(token))
    assert mine.status_code == stolen.status_code == notes.status_code == 200
    assert stolen.json()["sub"] == mine.json()["sub"] == "alice"
    assert notes.json()["notes"][0]["text"] == SEED_NOTES[0]


async def test_missing_token(api: httpx.AsyncClient) -> None:
    for path in ("/api/me", "/api/notes"):
        response = await api.get(path)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == (
            f'Bearer realm="tokenpath-demo-api", DPoP realm="tokenpath-demo-api", {ALGS}'
        )
        assert response.headers["cache-control"] == "no-store"


async def test_expired_token(api: httpx.AsyncClient, issuer: TokenIssuer) -> None:
    response = await api.get("/api/me", headers=bearer(issuer.sign(exp=NOW - 60)))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer realm="tokenpath-demo-api", error="invalid_token", '
        'error_description="the access token has expired", '
        f'DPoP realm="tokenpath-demo-api", {ALGS}'
    )
    assert response.json()["error"] == "invalid_token"


async def test_query_token_is_not_accepted(api: httpx.AsyncClient, issuer: TokenIssuer) -> None:
    response = await api.get("/api/me", params={"access_token": issuer.sign()})
    assert response.status_code == 401 and response.json()["error"] == "invalid_request"
    assert "sub" not in response.json()


async def test_insufficient_scope(api: httpx.AsyncClient, issuer: TokenIssuer) -> None:
    reader = bearer(issuer.sign(scope="notes:read"))
    write = await api.post("/api/notes", headers=reader, json={"text": "hi"})
    assert write.status_code == 403
    assert write.headers["www-authenticate"].endswith(
        'error="insufficient_scope", error_description="this call needs scope notes:write", '
        f'scope="notes:write", DPoP realm="tokenpath-demo-api", {ALGS}'
    )
    read = await api.get("/api/notes", headers=bearer(issuer.sign(scope="openid profile")))
    assert read.status_code == 403 and 'scope="notes:read"' in read.headers["www-authenticate"]


async def test_notes_are_seeded_and_kept_per_subject(
    api: httpx.AsyncClient, issuer: TokenIssuer
) -> None:
    bob = bearer(issuer.sign(sub="bob", scope="notes:read notes:write"))
    carol = bearer(issuer.sign(sub="carol", scope="notes:read"))
    seeded = (await api.get("/api/notes", headers=bob)).json()
    assert seeded == {
        "sub": "bob",
        "notes": [{"id": i, "text": t} for i, t in enumerate(SEED_NOTES, start=1)],
    }
    created = await api.post("/api/notes", headers=bob, json={"text": "buy milk"})
    assert created.status_code == 201 and created.json() == {"id": 4, "text": "buy milk"}
    assert (await api.get("/api/notes", headers=bob)).json()["notes"][-1]["text"] == "buy milk"
    assert "buy milk" not in str((await api.get("/api/notes", headers=carol)).json())


async def test_notes_per_subject_are_bounded(api: httpx.AsyncClient, issuer: TokenIssuer) -> None:
    writer = bearer(issuer.sign(sub="dave", scope="notes:read notes:write"))
    for i in range(MAX_NOTES + 5):
        assert (await api.post("/api/notes", headers=writer, json={"text": f"n{i}"})).is_success
    notes = (await api.get("/api/notes", headers=writer)).json()["notes"]
    assert len(notes) == MAX_NOTES and notes[-1]["text"] == f"n{MAX_NOTES + 4}"
    assert [n["id"] for n in notes] == sorted({n["id"] for n in notes})


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b'{"text": ""}', "application/json", 400),
        (b'{"text": "   "}', "application/json", 400),
        (b'{"text": "' + b"x" * (MAX_NOTE + 1) + b'"}', "application/json", 400),
        (b'{"text": 5}', "application/json", 400),
        (b'{"nope": "x"}', "application/json", 400),
        (b'["text"]', "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        (b"{", "application/json; charset=utf-8", 400),
        (b'{"text": "hi"}', "text/plain", 400),
        (b'{"text": "hi"}', "application/x-www-form-urlencoded", 400),
        (b'{"text": "' + b"x" * MAX_BODY + b'"}', "application/json", 413),
    ],
)
async def test_bad_note_bodies_get_invalid_request(
    api: httpx.AsyncClient, issuer: TokenIssuer, content: bytes, content_type: str, status: int
) -> None:
    headers = {**bearer(issuer.sign(scope="notes:write")), "Content-Type": content_type}
    response = await api.post("/api/notes", headers=headers, content=content)
    assert response.status_code == status
    assert response.json()["error"] == "invalid_request" and response.json()["error_description"]


async def test_a_note_of_the_maximum_length_is_kept(
    api: httpx.AsyncClient, issuer: TokenIssuer
) -> None:
    headers = bearer(issuer.sign(scope="notes:write"))
    response = await api.post("/api/notes", headers=headers, json={"text": "é" * MAX_NOTE})
    assert response.status_code == 201


async def test_cors_preflight_from_the_configured_origin(api: httpx.AsyncClient) -> None:
    response = await api.options("/api/me", headers={"Origin": SPA, **PREFLIGHT})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == SPA
    assert "authorization" in response.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize(
    "origin", ["http://127.0.0.1:6666", "http://evil.example", "null", SPA + ".evil.example"]
)
async def test_cors_nothing_for_other_origins(api: httpx.AsyncClient, origin: str) -> None:
    preflight = await api.options("/api/me", headers={"Origin": origin, **PREFLIGHT})
    assert "access-control-allow-origin" not in preflight.headers
    simple = await api.get("/api/health", headers={"Origin": origin})
    assert "access-control-allow-origin" not in simple.headers


async def test_a_dpop_bound_token_says_so_and_is_refused_without_its_key(
    api: httpx.AsyncClient, issuer: TokenIssuer
) -> None:
    key = Prover()
    token = issuer.sign(scope="notes:read", cnf={"jkt": key.jkt})
    proof = key.proof("GET", "http://api.test/api/me", access_token=token)
    response = await api.get("/api/me", headers={"Authorization": f"DPoP {token}", "DPoP": proof})
    assert response.status_code == 200, response.text
    me = response.json()
    assert me["token_type"] == "DPoP" and me["cnf"] == {"jkt": key.jkt}
    assert "bound to a key" in me["bearer"]
    stolen = await api.get("/api/me", headers=bearer(token))
    assert stolen.status_code == 401 and stolen.json()["error"] == "invalid_token"
    plain = await api.get("/api/me", headers=bearer(issuer.sign()))
    assert plain.json()["token_type"] == "Bearer" and plain.json()["cnf"] is None


async def test_cors_lets_the_browser_app_send_proofs_and_read_nonces(
    api: httpx.AsyncClient,
) -> None:
    asks = {**PREFLIGHT, "Access-Control-Request-Headers": "authorization, dpop"}
    response = await api.options("/api/me", headers={"Origin": SPA, **asks})
    assert response.status_code == 200
    assert "dpop" in response.headers["access-control-allow-headers"].lower()
    refused = await api.get("/api/me", headers={"Origin": SPA})
    assert "dpop-nonce" in refused.headers["access-control-expose-headers"].lower()


async def test_cors_lets_the_browser_app_read_the_challenge(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/me", headers={"Origin": SPA})
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == SPA
    assert "www-authenticate" in response.headers["access-control-expose-headers"].lower()


async def test_no_cors_unless_configured(validator: JwtValidator) -> None:
    transport = httpx.ASGITransport(app=create_demo_api(validator))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        response = await client.options("/api/me", headers={"Origin": SPA, **PREFLIGHT})
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    "origin", ["*", "http://*.example", "http://127.0.0.1:9003/", "https://a.example/app", "null"]
)
def test_only_exact_origins_can_be_configured(validator: JwtValidator, origin: str) -> None:
    with pytest.raises(ValueError, match="origin"):
        create_demo_api(validator, cors_origins=[origin])


async def test_no_token_reaches_the_logs(
    api: httpx.AsyncClient, issuer: TokenIssuer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tokens = [
        issuer.sign(),
        issuer.sign(exp=NOW - 600),
        issuer.sign(iss="https://evil.example"),
        issuer.sign(header={"typ": "JWT"}),
    ]
    head, body, signature = tokens[0].split(".")
    tokens.append(f"{head}.{body}.{signature[::-1]}")  # a bad signature
    for token in tokens:
        await api.get("/api/me", headers=bearer(token))
        await api.get("/api/me", params={"access_token": token})
    # server side only: the calling httpx client itself logs every URL, query tokens included,
    # which is exactly why the API refuses them
    server_log = "\n".join(
        f"{r.getMessage()} {r.args!r}"
        for r in caplog.records
        if not r.name.startswith(("httpx", "httpcore"))
    )
    assert "access token rejected" in server_log  # the logging under test did happen
    for token in tokens:
        for part in token.split(".")[1:]:
            assert part not in server_log
