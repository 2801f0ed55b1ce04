"""private_key_jwt from the outside: clients registered by ``tokenpath client add`` (a JWK Set
file, or a ``jwks_uri`` served by the client's own loopback server) get client-credentials tokens
from a real ``tokenpath serve`` (RFC 7523 §2.2, RFC 7591 §2, RFC 9700 §2.5)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.cli.conftest import clean_environ, wait_for
from tests.support.servers import free_port, serve_asgi

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
FILE_KEY = ECKey.generate_key("P-256", private=True, auto_kid=True)
URI_KEY = ECKey.generate_key("P-256", private=True, auto_kid=True)


def public_set(key: ECKey) -> dict[str, object]:
    return {"keys": [dict(key.as_dict(private=False))]}


class Server:
    def __init__(self, issuer: str, env: dict[str, str]) -> None:
        self.issuer = issuer
        self.env = env

    def cli(self, *args: str) -> dict[str, str | None]:
        done = subprocess.run(
            [sys.executable, "-m", "tokenpath", *args],
            env=self.env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        result: dict[str, str | None] = json.loads(done.stdout)
        return result

    def add_machine(self, *key_options: str) -> str:
        api = "https://notes.example"
        listed = subprocess.run(
            [sys.executable, "-m", "tokenpath", "api", "show", api, "--json"],
            env=self.env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        if listed.returncode != 0:
            self.cli("api", "add", api, "--scope", "notes:read=Read your notes", "--json")
        added = self.cli(
            "client", "add", "--name", "Machine", "--scope", "notes:read", "--resource", api,
            "--grant-type", "client_credentials", "--auth-method", "private_key_jwt",
            *key_options, "--json",
        )  # fmt: skip
        assert added["client_secret"] is None
        assert added["client_id"] is not None
        return added["client_id"]

    def token(self, client_id: str, key: ECKey, *, aud: str | None = None) -> httpx.Response:
        now = int(time.time())
        claims = {
            "iss": client_id,
            "sub": client_id,
            "aud": aud or self.issuer,
            "iat": now,
            "exp": now + 60,
            "jti": uuid.uuid4().hex,
        }
        assertion = jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)
        return httpx.post(
            f"{self.issuer}/token",
            data={
                "grant_type": "client_credentials",
                "scope": "notes:read",
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": assertion,
            },
        )


@pytest.fixture
def client_host() -> Iterator[str]:
    """The client's own web server, publishing its public keys at /jwks.json."""

    async def jwks(request: Request) -> Response:
        return JSONResponse(public_set(URI_KEY))

    with serve_asgi(Starlette(routes=[Route("/jwks.json", jwks)])) as url:
        yield url


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = clean_environ() | {"TOKENPATH_DATA_DIR": str(tmp_path), "TOKENPATH_ISSUER": issuer}
    subprocess.run(
        [sys.executable, "-m", "tokenpath", "db", "upgrade"],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    yield Server(issuer, env)


def serve(server: Server) -> subprocess.Popen[str]:
    port = server.issuer.rsplit(":", 1)[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "tokenpath", "serve", "--port", port],
        env=server.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    wait_for(f"{server.issuer}/", process)
    return process


def test_clients_registered_with_a_jwks_file_and_a_jwks_uri_get_tokens(
    server: Server, client_host: str, tmp_path: Path
) -> None:
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(public_set(FILE_KEY)), encoding="utf-8")
    by_file = server.add_machine("--jwks-file", str(jwks_file))
    by_uri = server.add_machine("--jwks-uri", f"{client_host}/jwks.json")
    process = serve(server)
    try:
        for client_id, key in ((by_file, FILE_KEY), (by_uri, URI_KEY)):
            response = server.token(client_id, key)
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["token_type"] == "Bearer" and body["scope"] == "notes:read"
            claims = httpx.post(
                f"{server.issuer}/introspect",
                data={"token": body["access_token"]},
                auth=(client_id, "no-secret"),
            )
            assert claims.status_code == 401, "a private_key_jwt client has no secret to use"
        wrong_key = server.token(by_uri, FILE_KEY)
        assert wrong_key.status_code == 401 and wrong_key.json()["error"] == "invalid_client"
        token_endpoint_aud = server.token(by_file, FILE_KEY, aud=f"{server.issuer}/token")
        assert token_endpoint_aud.status_code == 401
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert "client_auth.failed" in output
