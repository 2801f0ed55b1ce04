"""node ``openid-client`` (v6), unmodified, against the real server: discovery from the issuer URL
alone, code + PKCE + nonce, its own ID token validation, then userinfo; and once more with a client
it registers itself (RFC 7591) using an initial access token from the CLI.

The node process builds the authorization URL and redeems the callback; pytest plays the person in
the browser in between (``signin.py``). Lines of JSON on stdin/stdout carry the conversation.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.interop.conftest import CLAIMS, SCOPES, Server
from tests.interop.signin import sign_in_and_allow

TIMEOUT = 60


def run_flow(node_dir: Path, server: Server, options: dict[str, Any]) -> dict[str, Any]:
    """Run ``openid_client_flow.mjs`` through one sign-in; returns its final JSON line."""
    node = shutil.which("node")
    assert node is not None
    script = node_dir / "openid_client_flow.mjs"
    options = {"issuer": server.issuer, "scope": " ".join(SCOPES)} | options
    with subprocess.Popen(
        [node, str(script), json.dumps(options)],
        cwd=node_dir,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        first = json.loads(process.stdout.readline() or '{"error": "no output"}')
        if "authorization_url" not in first:
            _, stderr = process.communicate(timeout=TIMEOUT)
            pytest.fail(f"openid-client stopped before the authorization request: {first} {stderr}")
        callback = sign_in_and_allow(first["authorization_url"], server.issuer)
        stdout, stderr = process.communicate(callback + "\n", timeout=TIMEOUT)
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1]) if stdout.strip() else {}
    assert process.returncode == 0 and "error" not in result, (result, stderr)
    result["authorization_url"] = first["authorization_url"]
    result["callback"] = callback
    return result


def assert_signed_in(result: dict[str, Any], server: Server, client_id: str) -> None:
    claims, userinfo = result["claims"], result["userinfo"]
    assert result["issuer"] == server.issuer
    assert claims["iss"] == server.issuer and claims["aud"] in (client_id, [client_id])
    assert claims["sub"] == userinfo["sub"] == server.user_id
    assert isinstance(claims["auth_time"], int) and claims["iat"] >= claims["auth_time"]
    assert {k: userinfo[k] for k in CLAIMS} == CLAIMS
    assert result["token_type"].lower() == "bearer"
    # the request carried what the library added on its own: PKCE S256, nonce, state
    query = parse_qs(urlsplit(result["authorization_url"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    assert claims["nonce"] == query["nonce"][0]
    assert parse_qs(urlsplit(result["callback"]).query)["iss"] == [server.issuer]


def test_discovery_code_pkce_nonce_and_userinfo(node_packages: Path, server: Server) -> None:
    client_id = server.client_id("openid-client")
    result = run_flow(
        node_packages,
        server,
        {
            "client_id": client_id,
            "client_secret": server.secret("openid-client"),
            "redirect_uri": server.redirect_uri("openid-client"),
        },
    )
    assert result["client_id"] == client_id
    assert_signed_in(result, server, client_id)


def _initial_access_token(server: Server) -> str:
    command = [sys.executable, "-m", "tokenpath", "registration", "token", "create", "--json"]
    done = subprocess.run(
        command,
        env={"PATH": "/usr/bin:/bin"} | server.environment(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)
    token: str = created["token"]
    return token


def test_dynamic_registration_with_an_initial_access_token(
    node_packages: Path, sqlite_server: Server
) -> None:
    server = sqlite_server
    redirect_uri = f"{server.app_origin}/registered/callback"
    result = run_flow(
        node_packages,
        server,
        {
            "initial_access_token": _initial_access_token(server),
            "client_name": "Registered by openid-client",
            "redirect_uri": redirect_uri,
        },
    )
    assert result["client_id"] not in {client_id for client_id, _ in server.clients.values()}
    assert_signed_in(result, server, result["client_id"])
