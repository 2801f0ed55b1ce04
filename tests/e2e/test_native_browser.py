"""The native client (RFC 8252): loopback redirect on an ephemeral port, PKCE, system browser."""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.e2e.conftest import Stack
from tests.e2e.flows import sign_in_and_allow
from tokenpath.clients.native import LoginError, NativeClient


def test_cli_login_with_the_browser_step_in_chromium(stack: Stack, page: Any) -> None:
    opened: list[str] = []

    def open_browser(url: str) -> None:
        opened.append(url)

    client = NativeClient(stack.issuer, stack.client_id("native"))
    result: dict[str, Any] = {}
    worker = threading.Thread(
        target=lambda: result.update(
            login=client.login("openid notes:read", open_browser=open_browser, timeout=30)
        )
    )
    worker.start()
    for _ in range(200):
        if opened:
            break
        threading.Event().wait(0.05)
    query = parse_qs(urlsplit(opened[0]).query)
    redirect = urlsplit(query["redirect_uri"][0])
    # registered as http://127.0.0.1/callback; the app listens on a port the OS picked
    assert redirect.hostname == "127.0.0.1" and redirect.port and redirect.path == "/callback"
    assert query["code_challenge_method"] == ["S256"] and "client_secret" not in query
    page.goto(opened[0])
    sign_in_and_allow(page)
    page.wait_for_selector("text=return to the terminal")
    worker.join(30)
    login = result["login"]
    assert (
        login.claims["client_id"] == stack.client_id("native")
        and login.claims["iss"] == stack.issuer
    )
    assert login.refresh_token
    # DPoP by default (the server advertises it): code and token bound to this run's key
    assert query["dpop_jkt"] == [login.dpop_jkt] and login.token_type == "DPoP"
    assert login.claims["cnf"] == {"jkt": login.dpop_jkt}
    me = client.call_api(f"{stack.api}/api/me", login.access_token)
    assert me.status_code == 200 and me.json()["token_type"] == "DPoP"
    copied = httpx.get(
        f"{stack.api}/api/me", headers={"Authorization": f"Bearer {login.access_token}"}
    )
    assert copied.status_code == 401 and copied.json()["error"] == "invalid_token"


def test_no_dpop_asks_for_bearer_tokens(stack: Stack, page: Any) -> None:
    opened: list[str] = []
    client = NativeClient(stack.issuer, stack.client_id("native"), dpop=False)
    result: dict[str, Any] = {}
    worker = threading.Thread(
        target=lambda: result.update(
            login=client.login("notes:read", open_browser=opened.append, timeout=30)
        )
    )
    worker.start()
    for _ in range(200):
        if opened:
            break
        threading.Event().wait(0.05)
    assert "dpop_jkt" not in parse_qs(urlsplit(opened[0]).query)
    page.goto(opened[0])
    sign_in_and_allow(page)
    worker.join(30)
    login = result["login"]
    assert login.token_type == "Bearer" and login.dpop_jkt is None and "cnf" not in login.claims
    assert client.call_api(f"{stack.api}/api/me", login.access_token).status_code == 200


def test_a_forged_callback_is_refused(stack: Stack) -> None:
    client = NativeClient(stack.issuer, stack.client_id("native"))

    def attacker(url: str) -> None:
        redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        httpx.get(f"{redirect}?code=stolen&state=guess&iss={stack.issuer}")

    with pytest.raises(LoginError, match="state does not match"):
        client.login(open_browser=attacker, timeout=10)


def test_tokenpath_login_command_end_to_end(stack: Stack, page: Any) -> None:
    """The real `tokenpath login` process; Chromium plays the system browser."""
    import subprocess
    import sys

    command = [
        sys.executable, "-m", "tokenpath", "login", "--issuer", stack.issuer,
        "--client-id", stack.client_id("native"), "--no-browser", "--api", stack.api,
        "--timeout", "60",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        url = ""
        while not url.startswith("http"):
            line = process.stderr.readline()
            assert line, "login exited before printing the URL"
            url = line.strip()
        page.goto(url)
        sign_in_and_allow(page)
        page.wait_for_selector("text=return to the terminal")
        output, errors = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, errors
    printed = json.loads(output[: output.index("GET ")])
    claims = printed["claims"]
    assert claims["client_id"] == stack.client_id("native") and claims["iss"] == stack.issuer
    assert printed["token_type"] == "DPoP" and claims["cnf"]["jkt"] == printed["dpop_jkt"]
    assert f"GET {stack.api}/api/me -> 200" in output and '"token_type":"DPoP"' in output
