"""Each lab run, for real in Chromium, with its recording checked against what happened.

The expectations are the lesson of each flow (RFC 9700 §2.1, §4.3; RFC 8252): where the access
token may appear, and where it must not.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.lab.conftest import Demo
from tokenpath.lab.exposures import BROWSER_PLACES

pytestmark = pytest.mark.browser


def places(recording: dict[str, Any], secret: str) -> set[str]:
    return {x["place"] for x in recording["exposures"] if x["secret"] == secret}


def secret_values(recording: dict[str, Any], key: str) -> list[str]:
    """The values of ``key`` in the token-endpoint responses the recording kept."""
    import json

    found = []
    for e in recording["exchanges"]:
        if e["response_body"]:
            body = json.loads(e["response_body"])
            if key in body:
                found.append(body[key])
    return found


@pytest.fixture(scope="module")
def code_run(demo: Demo) -> dict[str, Any]:
    return demo.run("code")


@pytest.fixture(scope="module")
def implicit_run(demo: Demo) -> dict[str, Any]:
    return demo.run("implicit")


def test_code_flow_keeps_every_token_out_of_the_browser(code_run: dict[str, Any]) -> None:
    assert places(code_run, "access_token") == {
        "token-response",
        "client-session-store",
        "api-request",
    }
    for secret in ("access_token", "refresh_token", "id_token"):
        assert not places(code_run, secret) & BROWSER_PLACES, secret
    # what the browser really held: no snapshot of the page carries the token
    (token,) = secret_values(code_run, "access_token")
    for snapshot in code_run["browser"]:
        assert token not in str(snapshot)
    assert code_run["browser"], "the lab script reported nothing"
    # the code passed through the browser and was redeemed by the web app's server, with its secret
    redeem = [e for e in code_run["exchanges"] if e["url"] == "/token"]
    assert len(redeem) == 1 and redeem[0]["caller"] == "webapp"
    assert "grant_type=authorization_code" in redeem[0]["request_body"]


def test_implicit_puts_the_token_in_the_address_bar_and_script(
    implicit_run: dict[str, Any],
) -> None:
    seen = places(implicit_run, "access_token")
    assert {"address-bar-fragment", "js-memory"} <= seen
    assert not seen & {"token-response", "server-log", "client-session-store"}
    (token,) = {
        x["url"].split("access_token=")[1].split("&")[0]
        for x in implicit_run["browser"]
        if "access_token=" in x["url"]
    }
    # the fragment never reaches a server: no request line and no log line of the AS or API
    for e in implicit_run["exchanges"]:
        if e["server"] in ("as", "api"):
            assert token not in f"{e['method']} {e['url']}"
    assert all(token not in line["message"] for line in implicit_run["logs"])
    # the browser app sends it to the API only, in the Authorization header
    api = [e for e in implicit_run["exchanges"] if e["server"] == "api" and e["method"] == "GET"]
    assert [v for e in api for k, v in e["request_headers"] if k == "authorization"] == [
        f"Bearer {token}"
    ]


def test_pkce_browser_app_shows_the_code_not_the_token(demo: Demo) -> None:
    run = demo.run("pkce")
    assert "address-bar-query" in places(run, "authorization_code")
    assert "browser-storage" in places(run, "code_verifier")  # sessionStorage, one redirect long
    assert "js-memory" in places(run, "access_token")
    assert not places(run, "access_token") & {"address-bar-query", "address-bar-fragment"}
    assert "token-response" in places(run, "access_token")


def test_native_flow_code_reaches_the_loopback_page_token_stays_in_the_cli(demo: Demo) -> None:
    run = demo.run("native")
    assert "address-bar-query" in places(run, "authorization_code")
    assert places(run, "access_token") == {"token-response", "client-session-store", "api-request"}
    stores = {s["client"] for s in run["stores"]}
    assert stores == {"CLI process memory"}


def test_client_credentials_has_no_browser_at_all(demo: Demo) -> None:
    run = demo.run("client_credentials")
    assert run["browser"] == []
    assert places(run, "access_token") == {"token-response", "client-session-store", "api-request"}
    assert next(e["url"] for e in run["exchanges"] if e["server"] == "as") == "/token"


def test_refresh_renews_server_side(demo: Demo) -> None:
    run = demo.run("refresh")
    bodies = [e["request_body"] for e in run["exchanges"] if e["url"] == "/token"]
    assert any("grant_type=refresh_token" in b for b in bodies)
    assert len(secret_values(run, "access_token")) == 2  # the first and the renewed one
    for secret in ("access_token", "refresh_token"):
        assert not places(run, secret) & BROWSER_PLACES


def test_exports_and_comparison(
    demo: Demo, code_run: dict[str, Any], implicit_run: dict[str, Any]
) -> None:
    import httpx

    svg = httpx.get(f"{demo.lab}/runs/{implicit_run['run_id']}.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert "[access token]" in svg.text and "<svg" in svg.text
    (token,) = {
        x["url"].split("access_token=")[1].split("&")[0]
        for x in implicit_run["browser"]
        if "access_token=" in x["url"]
    }
    assert token not in svg.text  # named, never printed
    assert "href=" not in svg.text.replace("url(#head)", "")  # nothing fetched
    page = httpx.get(
        f"{demo.lab}/compare", params={"a": code_run["run_id"], "b": implicit_run["run_id"]}
    )
    assert page.status_code == 200
    assert 'class="differs browser" data-secret="access_token" data-place="js-memory"' in page.text
