"""DPoP from the outside (RFC 9449): a Python client that makes its proofs with joserfc gets bound
tokens from real servers over SQLite and PostgreSQL; a public client refreshes with its key and
no other; a proof spent at one server process is refused by another over the same database;
server nonces are handed out and required."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import requests

from tests.e2e.conftest import Stack
from tests.e2e.test_interop import browser_approves
from tests.support.dpop import Prover
from tests.support.servers import serve_asgi
from tokenpath.settings import Settings
from tokenpath.web.app import create_app

NATIVE_CB = "http://127.0.0.1/callback"


def machine_token(stack: Stack, token_url: str, *proofs: str) -> httpx.Response:
    return httpx.post(
        token_url,
        data={"grant_type": "client_credentials", "scope": "notes:read"},
        auth=(stack.client_id("machine"), stack.secret("machine")),
        headers=[("DPoP", p) for p in proofs],
    )


def introspect(stack: Stack, token: str) -> dict[str, Any]:
    response = httpx.post(
        f"{stack.issuer}/introspect",
        data={"token": token},
        auth=stack.api_credentials,  # the token's API: entitled to learn about it (RFC 7662 §4)
    )
    body: dict[str, Any] = response.json()
    return body


@contextmanager
def another_process(stack: Stack, tmp_path: Path, **settings: Any) -> Iterator[str]:
    """A second authorization server over the same database (another worker, another host)."""
    app = create_app(
        Settings(
            issuer=stack.issuer,
            audience=stack.api,
            database_url=stack.db_url,
            data_dir=tmp_path,
            **settings,
        )
    )
    with serve_asgi(app) as url:
        yield url


def test_a_client_credentials_token_is_bound_and_introspects_with_cnf(stack: Stack) -> None:
    key = Prover("ES256")
    token_url = f"{stack.issuer}/token"
    response = machine_token(stack, token_url, key.proof("POST", token_url))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "DPoP"
    payload = body["access_token"].split(".")[1]
    claims = httpx.Response(200, content=base64.urlsafe_b64decode(payload + "==")).json()
    assert claims["cnf"] == {"jkt": key.jkt}
    info = introspect(stack, body["access_token"])
    assert info["active"] is True and info["token_type"] == "DPoP"
    assert info["cnf"] == {"jkt": key.jkt}
    metadata = httpx.get(f"{stack.issuer}/.well-known/oauth-authorization-server").json()
    assert "ES256" in metadata["dpop_signing_alg_values_supported"]


def test_a_replayed_proof_is_refused_here_and_by_another_process(
    stack: Stack, tmp_path: Path
) -> None:
    key = Prover("ES256")
    token_url = f"{stack.issuer}/token"
    proof = key.proof("POST", token_url)
    assert machine_token(stack, token_url, proof).status_code == 200
    again = machine_token(stack, token_url, proof)
    assert again.status_code == 400 and again.json()["error"] == "invalid_dpop_proof"
    fresh = key.proof("POST", token_url)
    assert machine_token(stack, token_url, fresh).status_code == 200
    with another_process(stack, tmp_path) as other:
        # the proof names the issuer's token endpoint; the second process serves the same issuer
        elsewhere = machine_token(stack, f"{other}/token", fresh)
        assert elsewhere.status_code == 400, elsewhere.text
        assert elsewhere.json()["error"] == "invalid_dpop_proof"
        assert machine_token(stack, f"{other}/token", key.proof("POST", token_url)).is_success


def test_bad_proofs_and_two_headers_are_invalid_dpop_proof(stack: Stack) -> None:
    key = Prover("ES256")
    token_url = f"{stack.issuer}/token"
    private = dict(key.key.as_dict(private=True))
    for proof in (
        "garbage",
        key.proof("POST", f"{stack.issuer}/revoke"),
        key.proof("GET", token_url),
        key.proof("POST", token_url, header={"jwk": private}),
        key.proof("POST", token_url, iat=0),
    ):
        response = machine_token(stack, token_url, proof)
        assert response.status_code == 400 and response.json()["error"] == "invalid_dpop_proof"
    twice = machine_token(
        stack, token_url, key.proof("POST", token_url), key.proof("POST", token_url)
    )
    assert twice.status_code == 400 and twice.json()["error"] == "invalid_dpop_proof"


def authorize_native(stack: Stack, key: Prover) -> tuple[str, str]:
    """Code + PKCE + ``dpop_jkt`` for the public native client; returns (code, verifier)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    query = urlencode(
        {
            "response_type": "code",
            "client_id": stack.client_id("native"),
            "redirect_uri": NATIVE_CB,
            "scope": "openid notes:read",
            "state": "st",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "dpop_jkt": key.jkt,
        }
    )
    callback = browser_approves(requests.Session(), f"{stack.issuer}/authorize?{query}", stack)
    return parse_qs(urlsplit(callback).query)["code"][0], verifier


def native_token(stack: Stack, form: dict[str, str], proof: str | None) -> httpx.Response:
    headers = {"DPoP": proof} if proof else {}
    data = {"client_id": stack.client_id("native"), **form}
    return httpx.post(f"{stack.issuer}/token", data=data, headers=headers)


def test_a_public_client_keeps_its_tokens_bound_to_its_key(stack: Stack) -> None:
    """The code is bound by ``dpop_jkt``; the refresh token works with the same key only."""
    key, thief = Prover("ES256"), Prover("ES256")
    token_url = f"{stack.issuer}/token"
    code, verifier = authorize_native(stack, key)
    redeem = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": NATIVE_CB,
        "code_verifier": verifier,
    }
    stolen_code = native_token(stack, redeem, thief.proof("POST", token_url))
    assert stolen_code.status_code == 400 and stolen_code.json()["error"] == "invalid_grant"
    issued = native_token(stack, redeem, key.proof("POST", token_url))
    assert issued.status_code == 200, issued.text
    assert issued.json()["token_type"] == "DPoP"
    refresh = {"grant_type": "refresh_token", "refresh_token": issued.json()["refresh_token"]}
    for proof in (thief.proof("POST", token_url), None):
        refused = native_token(stack, refresh, proof)
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    renewed = native_token(stack, refresh, key.proof("POST", token_url))
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["token_type"] == "DPoP"
    assert introspect(stack, renewed.json()["access_token"])["cnf"] == {"jkt": key.jkt}


def test_server_nonces_are_handed_out_and_required(stack: Stack, tmp_path: Path) -> None:
    key = Prover("ES256")
    token_url = f"{stack.issuer}/token"
    with another_process(stack, tmp_path, require_dpop_nonce=True) as strict:
        first = machine_token(stack, f"{strict}/token", key.proof("POST", token_url))
        assert first.status_code == 400 and first.json()["error"] == "use_dpop_nonce"
        nonce = first.headers["DPoP-Nonce"]
        retry = machine_token(stack, f"{strict}/token", key.proof("POST", token_url, nonce=nonce))
        assert retry.status_code == 200, retry.text
        assert retry.headers["DPoP-Nonce"] and retry.json()["token_type"] == "DPoP"
    # the nonce's secret is derived from the shared signing keys: the default server (nonces
    # off) ignores it, and a second strict process accepts the first one's nonce
    with another_process(stack, tmp_path, require_dpop_nonce=True) as strict_too:
        again = machine_token(
            stack, f"{strict_too}/token", key.proof("POST", token_url, nonce=nonce)
        )
        assert again.status_code == 200, again.text
