"""The browser app with DPoP in Chromium (RFC 9449): a WebCrypto key the page cannot export, a
token bound to it, and that token stolen from the page refused at the API while the page works.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.e2e.conftest import Stack, start_stack
from tests.e2e.test_spa_browser import run_spa
from tests.support.dpop import Prover


@pytest.fixture
def nonce_stack(db_url: str, tmp_path: Path) -> Iterator[Stack]:
    """The server hands out DPoP nonces (as the demo does), so the page must retry with one."""
    yield from start_stack(db_url, tmp_path, dpop_nonce=True)


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_the_spa_gets_a_bound_token_and_a_stolen_copy_is_refused(
    nonce_stack: Stack, page: Any
) -> None:
    stack = nonce_stack
    token, _ = run_spa(stack, page, "pkce")
    assert page.evaluate("() => window.tokenpathSpa.tokenType()") == "DPoP"
    assert page.evaluate("() => window.tokenpathSpa.dpopKeyExtractable()") is False
    jkt = claims_of(token)["cnf"]["jkt"]
    assert jkt in page.inner_text("#binding")
    me = page.inner_text("#api")
    assert me.startswith("200") and '"token_type": "DPoP"' in me and jkt in me

    # the authorization request named the key (dpop_jkt, §10); /token asked for its nonce once
    authorize = next(e for e in stack.recorder.exchanges if e.target.startswith("/authorize?"))
    assert parse_qs(urlsplit(authorize.target).query)["dpop_jkt"] == [jkt]
    token_calls = [
        e
        for e in stack.recorder.exchanges
        if e.server == "as" and e.target == "/token" and e.method == "POST"
    ]
    assert [e.status for e in token_calls] == [400, 200]
    assert "dpop-nonce" in {k.lower() for k, _ in token_calls[0].response_headers}
    assert all("dpop" in dict(e.headers) for e in token_calls)
    # every API call carried the DPoP scheme and a proof, never the token as Bearer
    api_calls = [e for e in stack.recorder.exchanges if e.server == "api" and e.method == "GET"]
    assert api_calls and all(
        ("authorization", f"DPoP {token}") in e.headers and "dpop" in dict(e.headers)
        for e in api_calls
    )

    # the token stolen from the page (read through Playwright) and replayed from Python
    url = f"{stack.api}/api/me"
    as_bearer = httpx.get(url, headers={"Authorization": f"Bearer {token}"})
    assert as_bearer.status_code == 401 and as_bearer.json()["error"] == "invalid_token"
    thief = Prover()
    proof = thief.proof("GET", url, access_token=token)
    other_key = httpx.get(url, headers={"Authorization": f"DPoP {token}", "DPoP": proof})
    assert other_key.status_code == 401 and other_key.json()["error"] == "invalid_dpop_proof"
    assert (
        'DPoP realm="tokenpath-demo-api", error="invalid_dpop_proof"'
        in (other_key.headers["www-authenticate"])
    )
    no_proof = httpx.get(url, headers={"Authorization": f"DPoP {token}"})
    assert no_proof.status_code == 401 and no_proof.json()["error"] == "invalid_dpop_proof"

    # ...while the page keeps working, and shows the same refusals next to its own call
    page.click("#replay-button")
    page.wait_for_selector("#replay-results:not([hidden])")
    bearer_answer = page.inner_text("#replay-bearer")
    assert bearer_answer.startswith("401") and 'error="invalid_token"' in bearer_answer
    other_answer = page.inner_text("#replay-other-key")
    assert other_answer.startswith("401") and 'error="invalid_dpop_proof"' in other_answer
    own = page.inner_text("#replay-own-key")
    assert own.startswith("200") and '"token_type": "DPoP"' in own
    # and the key never left the page: nothing pending in IndexedDB, no key in Web Storage
    pending = page.evaluate(
        """() => new Promise((resolve) => {
            const open = indexedDB.open("tokenpath-dpop", 1);
            open.onsuccess = () => {
              const get = open.result.transaction("keys").objectStore("keys").count();
              get.onsuccess = () => resolve(get.result);
            };
        })"""
    )
    assert pending == 0


def test_implicit_says_it_cannot_use_dpop(stack: Stack, page: Any) -> None:
    token, _ = run_spa(stack, page, "implicit")
    assert "Implicit cannot use DPoP" in page.inner_text("#binding")
    assert page.is_hidden("#replay") and "cnf" not in claims_of(token)
    me = httpx.get(f"{stack.api}/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["token_type"] == "Bearer"
