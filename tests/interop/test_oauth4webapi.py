"""node ``oauth4webapi`` (v3), unmodified, against the real server with a pushed authorization
request (RFC 9126): discovery, the push with client authentication, the browser sent with
``client_id`` and ``request_uri`` alone, then code + PKCE + nonce and its own ID token checks.

The node process pushes, builds the authorization URL and redeems the callback; pytest plays the
person in the browser in between (``signin.py``). Lines of JSON on stdin/stdout carry the
conversation. With its ``dpop`` option the library binds the tokens to its own key (RFC 9449:
a proof at ``/par``, which binds the code, and at ``/token``) and calls the demo API with a
proof; the same token replayed without the key is refused there.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.interop.conftest import NOTES_API, SCOPES, Server
from tests.interop.signin import sign_in_and_allow
from tests.support.dpop import Prover
from tests.support.servers import serve_asgi
from tokenpath.resource import JwksCache, JwtValidator, create_demo_api

TIMEOUT = 60


def run_flow(node_dir: Path, server: Server, name: str, **extra: Any) -> dict[str, Any]:
    """Run ``oauth4webapi_flow.mjs`` for client ``name`` through one sign-in."""
    node = shutil.which("node")
    assert node is not None
    secret = server.clients[name][1]
    options = {
        "issuer": server.issuer,
        "client_id": server.client_id(name),
        "client_secret": secret,
        "redirect_uri": server.redirect_uri(name),
        "scope": " ".join(SCOPES),
        **extra,
    }
    with subprocess.Popen(
        [node, str(node_dir / "oauth4webapi_flow.mjs"), json.dumps(options)],
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
            pytest.fail(f"oauth4webapi stopped before the authorization request: {first} {stderr}")
        callback = sign_in_and_allow(first["authorization_url"], server.issuer)
        stdout, stderr = process.communicate(callback + "\n", timeout=TIMEOUT)
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1]) if stdout.strip() else {}
    assert process.returncode == 0 and "error" not in result, (result, stderr)
    return result | {"first": first, "callback": callback}


def assert_pushed_and_signed_in(
    result: dict[str, Any], server: Server, name: str, token_type: str = "bearer"
) -> None:
    first, claims = result["first"], result["claims"]
    assert first["status"] == 201 and first["pushed"]["expires_in"] == 60
    request_uri = first["pushed"]["request_uri"]
    assert request_uri.startswith("urn:ietf:params:oauth:request_uri:")
    sent = parse_qs(urlsplit(first["authorization_url"]).query)
    assert sent == {"client_id": [server.client_id(name)], "request_uri": [request_uri]}
    assert result["par_endpoint"] == f"{server.issuer}/par"
    assert claims["iss"] == server.issuer and claims["sub"] == server.user_id
    assert claims["aud"] in (server.client_id(name), [server.client_id(name)])
    assert result["token_type"].lower() == token_type
    assert parse_qs(urlsplit(result["callback"]).query)["iss"] == [server.issuer]
    # the pushed reference was taken: the same URL now shows an error page, never a redirect
    replay = httpx.get(first["authorization_url"], follow_redirects=False, timeout=30)
    assert replay.status_code == 400 and "location" not in replay.headers


@pytest.mark.parametrize("name", ["oauth4webapi", "oauth4webapi-public"])
def test_par_code_pkce_nonce(node_packages: Path, server: Server, name: str) -> None:
    result = run_flow(node_packages, server, name)
    assert_pushed_and_signed_in(result, server, name)


def test_a_client_required_to_push_still_signs_in_and_plain_requests_are_refused(
    node_packages: Path, sqlite_server: Server
) -> None:
    server, name = sqlite_server, "oauth4webapi"
    client_id = server.client_id(name)
    command = [
        sys.executable, "-m", "tokenpath", "client", "update", client_id,
        "--require-pushed-authorization-requests",
    ]  # fmt: skip
    done = subprocess.run(
        command,
        env={"PATH": "/usr/bin:/bin"} | server.environment(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0 and json.loads(done.stdout)["require_pushed_authorization_requests"]
    plain = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": server.redirect_uri(name),
        "scope": "openid",
        "state": "plain",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    refused = httpx.get(f"{server.issuer}/authorize?{urlencode(plain)}", timeout=30)
    assert refused.status_code == 302
    answer = parse_qs(urlsplit(refused.headers["location"]).query)
    assert answer["error"] == ["invalid_request"] and answer["state"] == ["plain"]
    assert_pushed_and_signed_in(run_flow(node_packages, server, name), server, name)


@pytest.mark.parametrize("name", ["oauth4webapi", "oauth4webapi-public"])
def test_par_code_pkce_dpop_then_the_api(node_packages: Path, server: Server, name: str) -> None:
    """PAR + code + PKCE + DPoP by the library, then a DPoP call to the demo API with its proof;
    the token alone (as Bearer, or with another key's proof) is refused there."""
    validator = JwtValidator(
        issuer=server.issuer, audience=NOTES_API, jwks=JwksCache(f"{server.issuer}/jwks")
    )
    with serve_asgi(create_demo_api(validator)) as api:
        result = run_flow(node_packages, server, name, dpop=True, api=api)
        assert_pushed_and_signed_in(result, server, name, token_type="dpop")
        called = result["api"]
        assert called["status"] == 200, called
        assert called["body"]["token_type"] == "DPoP" and called["body"]["sub"] == server.user_id
        token = result["access_token"]
        stolen = httpx.get(f"{api}/api/me", headers={"Authorization": f"Bearer {token}"})
        assert stolen.status_code == 401 and stolen.json()["error"] == "invalid_token"
        proof = Prover().proof("GET", f"{api}/api/me", access_token=token)
        other = httpx.get(
            f"{api}/api/me", headers={"Authorization": f"DPoP {token}", "DPoP": proof}
        )
        assert other.status_code == 401 and other.json()["error"] == "invalid_dpop_proof"
