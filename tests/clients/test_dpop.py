"""The client's DPoP half: proofs the server's checker accepts, the nonce retry, the keyring."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import httpx
import keyring
import pytest
from click.testing import CliRunner
from joserfc import jws
from keyring.backend import KeyringBackend

from tokenpath.cli import main
from tokenpath.clients.dpop import (
    KEYRING_SERVICE,
    ClientKey,
    DpopUnavailable,
    keyring_key,
    send_with_proof,
)
from tokenpath.core.dpop import verify_proof

URL = "https://api.example/api/me"


def test_proofs_pass_the_servers_checks() -> None:
    key = ClientKey.generate()
    proof = key.proof("GET", f"{URL}?page=2#top", access_token="tok", nonce="n1")
    checked = verify_proof(
        proof,
        method="GET",
        url=URL,
        now=int(time.time()),
        access_token="tok",
        nonce=lambda value: value == "n1",
    )
    assert checked.jkt == key.jkt and checked.htu == URL


def test_a_nonce_is_asked_for_once_and_remembered() -> None:
    key = ClientKey.generate()
    seen: list[dict[str, str]] = []

    def send(headers: dict[str, str]) -> httpx.Response:
        seen.append(headers)
        if len(seen) == 1:
            challenge = 'DPoP error="use_dpop_nonce", error_description="fresh"'
            return httpx.Response(401, headers={"WWW-Authenticate": challenge, "DPoP-Nonce": "n-1"})
        return httpx.Response(200, json={}, headers={"DPoP-Nonce": "n-2"})

    nonces: dict[str, str] = {}
    response = send_with_proof(key, nonces, "GET", URL, send, access_token="tok")
    assert response.status_code == 200 and len(seen) == 2
    assert seen[1]["Authorization"] == "DPoP tok"
    first, second = (verify(h["DPoP"]) for h in seen)
    assert "nonce" not in first and second["nonce"] == "n-1"
    assert nonces == {"https://api.example/": "n-2"}  # the next call starts with the newest

    def refuse(headers: dict[str, str]) -> httpx.Response:
        seen.append(headers)
        challenge = 'DPoP error="use_dpop_nonce"'
        return httpx.Response(401, headers={"WWW-Authenticate": challenge, "DPoP-Nonce": "x"})

    seen.clear()
    assert send_with_proof(key, nonces, "GET", URL, refuse).status_code == 401
    assert len(seen) == 2  # bounded: one retry only


def verify(proof: str) -> dict[str, Any]:
    return dict(json.loads(jws.extract_compact(proof.encode()).payload))


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username), None)


def test_the_keyring_keeps_one_key_per_issuer_and_client() -> None:
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        first = keyring_key("https://as.example", "cli")
        assert keyring_key("https://as.example", "cli").jkt == first.jkt
        assert keyring_key("https://as.example", "other").jkt != first.jkt
    finally:
        keyring.set_keyring(previous)
    assert (KEYRING_SERVICE, "https://as.example cli") in backend.entries


def test_without_the_keyring_package_the_message_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)
    with pytest.raises(DpopUnavailable, match=r"pip install 'tokenpath\[keyring\]'"):
        keyring_key("https://as.example", "cli")
    result = CliRunner().invoke(
        main,
        ["login", "--issuer", "http://127.0.0.1:9", "--client-id", "c", "--dpop-key", "keyring"],
    )
    assert result.exit_code == 1 and "tokenpath[keyring]" in result.output
