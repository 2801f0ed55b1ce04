"""web/admin_api.py over a real uvicorn server: Bearer admin tokens from the CLI, the lifecycle
over JSON, errors as JSON with their documented statuses, concurrent changes, and a bounded
schemathesis run from the API's own OpenAPI document."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import schemathesis
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import positive_data_acceptance
from starlette.applications import Starlette

from tests.support.servers import serve_asgi
from tokenpath.cli import main
from tokenpath.runtime import build_context, load_settings
from tokenpath.storage.passwords import Argon2PasswordHasher
from tokenpath.storage.sql import open_database
from tokenpath.web.admin_api import create_admin_app, mount_at


@dataclass
class Admin:
    url: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def cli(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def admin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, password_hasher: Argon2PasswordHasher
) -> Iterator[Admin]:
    monkeypatch.setenv("TOKENPATH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("TOKENPATH_DATABASE_URL", raising=False)
    assert cli("db", "upgrade")[0] == 0
    code, out = cli("admin", "token", "create", "--name", "tests", "--json")
    assert code == 0, out
    token = json.loads(out)["token"]
    settings_ = load_settings()
    database = asyncio.run(open_database(settings_.database_url))
    ctx = build_context(settings_, database.stores, passwords=password_hasher)
    app = mount_at("/admin", create_admin_app(ctx), Starlette())
    with serve_asgi(app) as url:
        yield Admin(url=url + "/admin", token=token)
    asyncio.run(database.close())


def test_missing_wrong_or_revoked_tokens_are_401(admin: Admin) -> None:
    for headers in ({}, {"Authorization": "Bearer tpadm_wrong"}, {"Authorization": admin.token}):
        reply = httpx.get(f"{admin.url}/clients", headers=headers)
        assert reply.status_code == 401 and reply.json()["error"] == "unauthorized"
        assert reply.headers["www-authenticate"].startswith("Bearer")
    assert httpx.get(f"{admin.url}/clients", headers=admin.headers).status_code == 200
    token_id = json.loads(cli("admin", "token", "list", "--json")[1])[0]["token_id"]
    assert cli("admin", "token", "revoke", token_id)[0] == 0
    assert httpx.get(f"{admin.url}/clients", headers=admin.headers).status_code == 401
    assert httpx.get(f"{admin.url}/openapi.json").status_code == 200  # public: no data


def test_the_lifecycle_over_json_with_documented_errors(admin: Admin) -> None:
    with httpx.Client(base_url=admin.url, headers=admin.headers) as http:
        user = http.post("/users", json={"username": "alice", "password": "correct horse"})
        assert user.status_code == 201 and user.json()["username"] == "alice"
        assert http.post("/users", json={"username": "alice", "password": "correct horse"}
                         ).status_code == 409  # fmt: skip
        created = http.post("/clients", json={
            "client_name": "App", "client_type": "confidential", "scope": "openid",
            "redirect_uris": ["http://127.0.0.1:9/cb"]})  # fmt: skip
        assert created.status_code == 201, created.text
        client_id = created.json()["client"]["client_id"]
        assert created.json()["client_secret"]
        assert http.post(f"/clients/{client_id}/disable").json()["disabled"] is True
        assert http.get(f"/clients/{client_id}").json()["disabled"] is True
        rotated = http.post(f"/clients/{client_id}/rotate-secret", json={"overlap": 60}).json()
        assert rotated["client_secret"] and rotated["previous_secret_valid_until"]
        assert http.post("/grants/revoke", json={"user": "alice"}).json() == {
            "revoked_grants": 0, "ended_sessions": 0}  # fmt: skip
        assert http.get("/grants", params={"client": client_id}).json() == []
        assert http.delete(f"/clients/{client_id}").status_code == 204
        gone = http.delete(f"/clients/{client_id}")
        assert gone.status_code == 404 and gone.json()["error"] == "not_found"
        assert http.post("/users", content=b"{not json").status_code == 400
        bad = http.post("/users", json={"username": "bob", "password": "short"})
        assert bad.status_code == 422 and bad.json()["error"] == "invalid_request"
        assert http.post("/grants/revoke", json={}).status_code == 422
        assert http.post("/users", content=b"x" * 70_000).status_code == 413
        assert http.get("/nothing").json()["error"] == "not_found"
        assert http.put("/users").status_code == 405
        assert http.get("/users/" + "x" * 300).status_code == 404
        assert len(http.get("/keys").json()) == 1
        assert http.delete("/users/alice").status_code == 204
        assert http.get("/users/alice").status_code == 404


def test_apis_and_the_clients_allowed_on_them(admin: Admin) -> None:
    """The ``tokenpath api`` commands over HTTP; a client is allowed on an API by ``resources``."""
    notes = "https://api.notes.example"
    scopes = [{"name": "notes:read", "description": "Read your notes"}]
    with httpx.Client(base_url=admin.url, headers=admin.headers) as http:
        added = http.post("/apis", json={"identifier": notes, "scopes": scopes})
        assert added.status_code == 201, added.text
        assert set(added.json()) == {"identifier", "client_id", "client_secret", "api"}
        assert http.post("/apis", json={"identifier": notes, "scopes": scopes}).status_code == 409
        fragment = http.post("/apis", json={"identifier": notes + "#x", "scopes": scopes})
        assert fragment.status_code == 422 and fragment.json()["error"] == "invalid_request"
        assert [a["identifier"] for a in http.get("/apis").json()] == [notes]
        changed = http.patch(
            "/api", params={"identifier": notes}, json={"access_token_lifetime": 120}
        )
        assert changed.status_code == 200 and changed.json()["access_token_lifetime"] == 120
        client = http.post("/clients", json={
            "client_name": "M", "client_type": "confidential", "scope": "notes:read",
            "grant_types": ["client_credentials"], "resources": [notes]})  # fmt: skip
        assert client.status_code == 201, client.text
        assert client.json()["client"]["resources"] == [notes]
        outside = http.post("/clients", json={
            "client_name": "N", "client_type": "confidential", "scope": "notes:read",
            "grant_types": ["client_credentials"]})  # fmt: skip
        assert outside.status_code == 422  # notes:read belongs to an API it is not allowed on
        assert http.get("/api").status_code == 422  # which API?
        assert http.delete("/api", params={"identifier": notes}).status_code == 204
        assert http.get("/api", params={"identifier": notes}).status_code == 404


def test_concurrent_changes_leave_a_consistent_state(admin: Admin) -> None:
    with httpx.Client(base_url=admin.url, headers=admin.headers) as http:
        for name in ("u1", "u2"):
            http.post("/users", json={"username": name, "password": "correct horse"})

    async def race() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=admin.url, headers=admin.headers) as http:
            return await asyncio.gather(
                http.post("/users/u1/disable"), http.delete("/users/u1"),
                http.post("/grants/revoke", json={"user": "u1"}), http.post("/users/u1/enable"),
                http.put("/users/u2/password", json={"password": "another horse"}),
                http.post("/users/u2/disable"), http.post("/users/u2/disable"),
            )  # fmt: skip

    statuses = [r.status_code for r in asyncio.run(race())]
    assert set(statuses) <= {200, 204, 404}, statuses
    with httpx.Client(base_url=admin.url, headers=admin.headers) as http:
        assert http.get("/users/u1").status_code == 404
        assert http.get("/users/u2").json()["disabled"] is True
        assert [u["username"] for u in http.get("/users").json()] == ["u2"]


def test_fuzzed_requests_never_fail_the_server(admin: Admin) -> None:
    """Every operation of the served document, a few generated requests each (bounded: no
    shrinking, no example database): no 5xx, and every answer as documented. A schema-valid
    body may still break a rule the schema cannot express (a redirect URI the registration
    rules refuse): that is a documented 422, so the "valid data is accepted" check is off."""
    api = schemathesis.openapi.from_url(f"{admin.url}/openapi.json")
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 18

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=5, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers=admin.headers, timeout=10, excluded_checks=[positive_data_acceptance]
            )

        check()
