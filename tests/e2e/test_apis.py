"""APIs as first-class, black box against a real server on SQLite and PostgreSQL: two APIs, a
client allowed on both, a token per API with the right ``aud`` (RFC 8707), one grant downscoped
per API through its refresh token, introspection only for the entitled (RFC 7662 §4), the
revocation feed after ``/revoke``, and the bad input of issue 13."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.conftest import run_blocking
from tests.support.apis import NOTES_SCOPES
from tests.support.servers import free_port, serve_asgi
from tokenpath.core.apis import add_api, delete_api
from tokenpath.core.pkce import s256
from tokenpath.core.records import ApiScope, ClientType, GrantType
from tokenpath.core.registration import create_user, register_client
from tokenpath.resource import JwksCache, JwtValidator, create_demo_api
from tokenpath.runtime import build_context
from tokenpath.settings import Settings
from tokenpath.storage.passwords import Argon2PasswordHasher
from tokenpath.storage.sql import open_database
from tokenpath.web import create_app

PASSWORD = "wonderland"
BILLING = "https://billing.example/api"
CB = "https://app.example/cb"
VERIFIER = "v" * 64


@dataclass
class World:
    issuer: str
    notes: str
    settings: Settings
    credentials: dict[str, tuple[str, str]] = field(default_factory=dict)

    def basic(self, name: str) -> tuple[str, str]:
        return self.credentials[name]


async def _seed(world: World) -> None:
    database = await open_database(world.settings.database_url)
    cheap = Argon2PasswordHasher(time_cost=1, memory_cost=8192)
    ctx = build_context(world.settings, database.stores, passwords=cheap)
    try:
        await create_user(ctx=ctx, username="alice", password=PASSWORD)
        notes, notes_secret = await add_api(ctx, identifier=world.notes, scopes=NOTES_SCOPES)
        billing, billing_secret = await add_api(
            ctx,
            identifier=BILLING,
            scopes=[ApiScope(name="billing:read", description="Read your invoices")],
            access_token_lifetime=120,
        )
        world.credentials["notes-api"] = (notes.client_id, notes_secret)
        world.credentials["billing-api"] = (billing.client_id, billing_secret)
        both = [world.notes, BILLING]
        specs: dict[str, dict[str, Any]] = {
            "app": {
                "grant_types": [GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN],
                "redirect_uris": [CB],
                "scopes": ["openid", "notes:read", "billing:read"],
                "resources": both,
            },
            "machine": {
                "grant_types": [GrantType.CLIENT_CREDENTIALS],
                "redirect_uris": [],
                "scopes": ["notes:read", "billing:read"],
                "resources": both,
            },
            "prober": {
                "grant_types": [GrantType.CLIENT_CREDENTIALS],
                "redirect_uris": [],
                "scopes": ["notes:read"],
                "resources": [world.notes],
            },
        }
        for name, spec in specs.items():
            client, secret = await register_client(
                ctx=ctx, name=name, client_type=ClientType.CONFIDENTIAL, **spec
            )
            assert secret is not None
            world.credentials[name] = (client.client_id, secret)
    finally:
        await database.close()


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    as_port, api_port = free_port(), free_port()
    issuer, notes = f"http://127.0.0.1:{as_port}", f"http://127.0.0.1:{api_port}"
    settings = Settings(issuer=issuer, database_url=db_url, data_dir=tmp_path)
    world = World(issuer=issuer, notes=notes, settings=settings)
    run_blocking(_seed(world))
    validator = JwtValidator(issuer=issuer, audience=notes, jwks=JwksCache(f"{issuer}/jwks"))
    with (
        serve_asgi(create_app(settings), port=as_port),
        serve_asgi(create_demo_api(validator), port=api_port),
    ):
        yield world


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def token(world: World, name: str, *pairs: tuple[str, str]) -> httpx.Response:
    """POST /token with ``pairs`` as sent (a parameter may repeat)."""
    return httpx.post(
        f"{world.issuer}/token", content=urlencode(pairs), headers=FORM, auth=world.basic(name)
    )


def claims(jwt: str) -> dict[str, Any]:
    """The payload as the resource server sees it (signature checked elsewhere)."""
    payload = jwt.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * 4))
    return decoded


def introspect(world: World, name: str, value: str) -> dict[str, Any]:
    response = httpx.post(
        f"{world.issuer}/introspect", data={"token": value}, auth=world.basic(name)
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _hidden(html: str) -> list[tuple[str, str]]:
    pattern = r'<input type="hidden" name="([^"]+)" value="([^"]*)"'
    return [(unescape(n), unescape(v)) for n, v in re.findall(pattern, html)]


def user_grant(world: World, *resources: str, scope: str) -> dict[str, Any]:
    """Sign in and approve over plain HTTP, as a browser would; redeem the code (no resource)."""
    client_id = world.basic("app")[0]
    query = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", CB),
        ("scope", scope),
        ("state", "st"),
        ("code_challenge", s256(VERIFIER)),
        ("code_challenge_method", "S256"),
        *(("resource", r) for r in resources),
    ]
    with httpx.Client(base_url=world.issuer) as browser:
        login = browser.get(f"/authorize?{urlencode(query)}", follow_redirects=True)
        assert login.status_code == 200 and "Sign in" in login.text
        form = [*_hidden(login.text), ("username", "alice"), ("password", PASSWORD)]
        consent = browser.post(
            "/login", content=urlencode(form), headers=FORM, follow_redirects=True
        )
        assert consent.status_code == 200, consent.text
        texts = {world.notes: "Read your notes", BILLING: "Read your invoices"}
        for resource in resources:  # each API, with the texts it registered
            assert resource in consent.text and texts[resource] in consent.text
        decision = [*_hidden(consent.text), ("decision", "approve")]
        final = browser.post("/consent", content=urlencode(decision), headers=FORM)
    assert final.status_code == 303
    code = parse_qs(urlsplit(final.headers["Location"]).query)["code"][0]
    answer = token(
        world, "app", ("grant_type", "authorization_code"), ("code", code),
        ("redirect_uri", CB), ("code_verifier", VERIFIER),
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_a_token_per_api_and_each_validator_takes_only_its_own(world: World) -> None:
    for_notes = token(world, "machine", ("grant_type", "client_credentials"))
    for_billing = token(
        world, "machine", ("grant_type", "client_credentials"), ("resource", BILLING)
    )
    assert for_notes.status_code == for_billing.status_code == 200
    notes_claims = claims(for_notes.json()["access_token"])
    billing_claims = claims(for_billing.json()["access_token"])
    assert notes_claims["aud"] == world.notes and for_notes.json()["scope"] == "notes:read"
    assert billing_claims["aud"] == BILLING and for_billing.json()["scope"] == "billing:read"
    assert for_billing.json()["expires_in"] == 120  # the billing API's own lifetime

    def call(value: str) -> int:
        headers = {"Authorization": f"Bearer {value}"}
        return httpx.get(f"{world.notes}/api/notes", headers=headers).status_code

    assert call(for_notes.json()["access_token"]) == 200
    assert call(for_billing.json()["access_token"]) == 401  # aud is another API


def test_one_grant_downscoped_per_api_through_the_refresh_token(world: World) -> None:
    first = user_grant(world, world.notes, BILLING, scope="openid notes:read billing:read")
    assert claims(first["access_token"])["aud"] == world.notes  # the first one named
    assert first["scope"] == "openid notes:read"
    billing = token(
        world, "app", ("grant_type", "refresh_token"),
        ("refresh_token", first["refresh_token"]), ("resource", BILLING),
    )  # fmt: skip
    assert billing.status_code == 200, billing.text
    assert billing.json()["scope"] == "openid billing:read"
    assert claims(billing.json()["access_token"])["aud"] == BILLING
    wider = token(
        world, "app", ("grant_type", "refresh_token"),
        ("refresh_token", billing.json()["refresh_token"]), ("resource", BILLING),
        ("scope", "notes:read"),
    )  # fmt: skip
    assert (wider.status_code, wider.json()["error"]) == (400, "invalid_scope")


def test_introspection_only_for_the_entitled(world: World) -> None:
    """The probe of issue 13: a machine client asks about a user's tokens."""
    tokens = user_grant(world, world.notes, scope="openid notes:read")
    probe = {
        kind: introspect(world, "prober", tokens[kind])
        for kind in ("access_token", "refresh_token")
    }
    print("cross-client introspection probe:", json.dumps(probe))
    assert probe == {"access_token": {"active": False}, "refresh_token": {"active": False}}
    owner = introspect(world, "app", tokens["refresh_token"])
    assert owner["active"] is True and owner["client_id"] == world.basic("app")[0]
    api = introspect(world, "notes-api", tokens["access_token"])
    assert api["active"] is True and api["aud"] == world.notes and api["sub"]
    assert introspect(world, "billing-api", tokens["access_token"]) == {"active": False}
    revoked = httpx.post(
        f"{world.issuer}/revoke", data={"token": tokens["access_token"]},
        auth=world.basic("prober"),
    )  # fmt: skip
    assert revoked.status_code == 200  # answered like an unknown token ...
    assert introspect(world, "app", tokens["access_token"])["active"] is True  # ... untouched


def feed(world: World, name: str | None, **query: str) -> httpx.Response:
    auth = world.basic(name) if name else None
    return httpx.get(f"{world.issuer}/revocations", params=query, auth=auth)


def test_the_revocation_feed_sees_revoke(world: World) -> None:
    meta = httpx.get(f"{world.issuer}/.well-known/oauth-authorization-server").json()
    assert meta["revocation_feed_endpoint"] == f"{world.issuer}/revocations"
    assert meta["resource_indicators_supported"] is True
    start = feed(world, "billing-api")
    assert start.status_code == 200 and start.json()["revoked"] == []
    assert start.headers["cache-control"] == "no-store"
    tokens = user_grant(world, BILLING, scope="billing:read")
    at = claims(tokens["access_token"])
    assert at["aud"] == BILLING
    httpx.post(
        f"{world.issuer}/revoke", data={"token": tokens["access_token"]}, auth=world.basic("app")
    ).raise_for_status()
    after = feed(world, "billing-api", since=start.json()["cursor"]).json()
    assert after["revoked"] == [{"jti": at["jti"], "exp": at["exp"]}]
    assert after["poll_interval"] == 1 and isinstance(after["cursor"], str)
    httpx.post(
        f"{world.issuer}/revoke", data={"token": tokens["refresh_token"]}, auth=world.basic("app")
    ).raise_for_status()
    # an entry younger than a couple of seconds may come again: a validator keeps a set
    later = feed(world, "billing-api", since=after["cursor"]).json()["revoked"]
    grants = [e for e in later if "grant_id" in e]
    assert [e for e in later if "jti" in e] in ([], after["revoked"])
    assert [set(e) for e in grants] == [{"grant_id", "exp"}]
    assert grants[0]["grant_id"] == at["grant_id"]
    # the app may get tokens for the notes API too, so that API learns of the grant as well
    notes = feed(world, "notes-api").json()["revoked"]
    assert [e.get("grant_id") for e in notes] == [at["grant_id"]]


def test_revocation_feed_errors(world: World) -> None:
    missing = feed(world, None)
    assert (missing.status_code, missing.json()["error"]) == (401, "invalid_client")
    assert missing.headers["www-authenticate"].startswith("Basic")
    bad = httpx.get(f"{world.issuer}/revocations", auth=(world.basic("notes-api")[0], "wrong"))
    assert (bad.status_code, bad.json()["error"]) == (401, "invalid_client")
    assert bad.headers["www-authenticate"].startswith("Basic")
    not_api = feed(world, "machine")
    assert (not_api.status_code, not_api.json()["error"]) == (403, "unauthorized_client")
    cursor = feed(world, "notes-api", since="not-a-cursor")
    assert (cursor.status_code, cursor.json()["error"]) == (400, "invalid_request")
    post = httpx.post(f"{world.issuer}/revocations", auth=world.basic("notes-api"))
    assert post.status_code == 405 and post.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "resources",
    [
        ["https://unknown.example"],
        ["https://billing.example/api#frag"],
        ["/api"],
        ["billing.example"],
        ["https://bill ing.example"],
        [BILLING, BILLING],
        [BILLING, "https://notes.example"],  # one token, one audience
    ],
)
def test_bad_resources_at_token_are_invalid_target(world: World, resources: list[str]) -> None:
    pairs = [("grant_type", "client_credentials"), *(("resource", r) for r in resources)]
    answer = token(world, "machine", *pairs)
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_target")
    assert answer.headers["cache-control"] == "no-store"


def test_bad_input_at_authorize(world: World) -> None:
    client_id = world.basic("app")[0]
    base = {"response_type": "code", "client_id": client_id, "redirect_uri": CB, "state": "s",
            "code_challenge": s256(VERIFIER), "code_challenge_method": "S256"}  # fmt: skip
    for bad in ("https://unknown.example", "https://billing.example/api#x", "relative"):
        response = httpx.get(f"{world.issuer}/authorize", params={**base, "resource": bad})
        assert response.status_code in (302, 303)
        location = response.headers["location"]
        assert location.startswith(CB) and "error=invalid_target" in location
    spaced = httpx.get(f"{world.issuer}/authorize", params={**base, "scope": "notes:read  x"})
    assert "error=invalid_scope" in spaced.headers["location"]
    # a control character fails the parse itself: shown at the server, never redirected
    control = httpx.get(f"{world.issuer}/authorize", params={**base, "scope": "bad\x01scope"})
    assert control.status_code == 400 and "location" not in control.headers
    unknown = httpx.get(
        f"{world.issuer}/authorize", params={**base, "client_id": "nobody", "resource": "#"}
    )
    assert unknown.status_code == 400 and "location" not in unknown.headers  # never redirected


def test_an_api_deleted_while_its_tokens_are_out(world: World) -> None:
    issued = token(world, "machine", ("grant_type", "client_credentials"), ("resource", BILLING))
    value = issued.json()["access_token"]
    assert introspect(world, "machine", value)["active"] is True

    async def remove() -> None:
        database = await open_database(world.settings.database_url)
        try:
            ctx = build_context(world.settings, database.stores)
            assert await delete_api(ctx, BILLING)
        finally:
            await database.close()

    run_blocking(remove())
    assert introspect(world, "machine", value) == {"active": False}
    again = token(world, "machine", ("grant_type", "client_credentials"), ("resource", BILLING))
    assert (again.status_code, again.json()["error"]) == (400, "invalid_target")
