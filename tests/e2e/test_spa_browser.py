"""The browser app in Chromium: implicit and code + PKCE side by side (issue: implicit flow).

What each mode leaves behind is asserted from the browser (address bar, history, storage) and
from every demo server's recorded traffic (request lines, headers, bodies).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from tests.e2e.conftest import Stack
from tests.e2e.flows import record_navigation, sign_in_and_allow, storage_of


def run_spa(stack: Stack, page: Any, mode: str) -> tuple[str, dict[str, list[str]]]:
    seen = record_navigation(page)
    page.goto(stack.spa)
    page.click(f"#login-{mode}")
    sign_in_and_allow(page)
    page.wait_for_selector("#status:not([hidden])")
    page.wait_for_function("() => document.querySelector('#api').textContent.length > 0")
    token: str = page.evaluate("() => window.tokenpathSpa.heldToken()")
    assert token and page.evaluate("() => window.tokenpathSpa.mode()") == mode
    return token, seen


def test_implicit_token_lives_in_the_fragment_and_js_memory_only(stack: Stack, page: Any) -> None:
    token, seen = run_spa(stack, page, "implicit")
    assert page.inner_text("#api").startswith("200")
    # it arrived in the fragment of a history entry...
    arrivals = [u for u in seen["navigations"] if token in u]
    assert arrivals and all(
        urlsplit(u).fragment and token not in urlsplit(u).query for u in arrivals
    )
    assert parse_qs(urlsplit(arrivals[0]).fragment)["iss"] == [stack.issuer]
    # ...was wiped from the address bar at once...
    assert page.url == f"{stack.spa}/" and page.evaluate("() => location.hash") == ""
    # ...was issued by the AS in its Location header, in the fragment...
    issued = [
        e for e in stack.recorder.exchanges if token in dict(e.response_headers).get("location", "")
    ]
    assert [e.server for e in issued] == ["as"]
    assert token in urlsplit(dict(issued[0].response_headers)["location"]).fragment
    # ...and no server ever received it except the API, in the Authorization header
    assert not any(token in u for u in seen["requests"])
    for exchange in stack.recorder.containing(token):
        assert exchange.server == "api" and ("authorization", f"Bearer {token}") in exchange.headers
    assert token not in storage_of(page, stack.spa) and token not in str(page.context.cookies())
    # the AS marked it as an implicit token
    me = httpx.get(f"{stack.api}/api/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["grant_type"] == "implicit"


def test_code_with_pkce_token_never_in_a_url(stack: Stack, page: Any) -> None:
    token, seen = run_spa(stack, page, "pkce")
    assert not any(token in u for u in seen["requests"] + seen["navigations"])
    code_urls = [u for u in seen["navigations"] if "code=" in urlsplit(u).query]
    assert code_urls, "the code arrived in the query of the redirect"
    assert page.url == f"{stack.spa}/"  # and was wiped from the address bar
    token_requests = [  # a POST (the DPoP header makes the browser send a preflight first)
        e
        for e in stack.recorder.exchanges
        if e.server == "as" and e.target == "/token" and e.method == "POST"
    ]
    assert len(token_requests) == 1
    body = parse_qs(token_requests[0].body.decode())
    assert body["client_id"] == [stack.client_id("spa-pkce")] and "client_secret" not in body
    assert len(body["code_verifier"][0]) >= 43
    assert all(not h[0].startswith("authorization") for h in token_requests[0].headers)
    me = page.inner_text("#api")  # the token is DPoP-bound: only the page's key can use it
    assert me.startswith("200") and '"grant_type": "authorization_code"' in me
    assert token not in storage_of(page, stack.spa)


def test_code_only_client_asking_for_implicit_gets_unauthorized_client(
    stack: Stack, page: Any
) -> None:
    seen = record_navigation(page)
    client_id = stack.client_id("spa-pkce")
    page.goto(
        f"{stack.issuer}/authorize?response_type=token&client_id={client_id}"
        f"&redirect_uri={stack.spa}/&state=s1"
    )
    # refused before any sign-in (the request is wrong whoever the user is), in the fragment
    page.wait_for_selector("#error:not([hidden])")
    landed = next(u for u in seen["navigations"] if u.startswith(f"{stack.spa}/#"))
    answer = parse_qs(urlsplit(landed).fragment)
    assert answer["error"] == ["unauthorized_client"] and answer["state"] == ["s1"]
    assert "access_token" not in answer
    # and the app, which never started this request, ignores it (state check, RFC 9700 §4.7)
    assert "state does not match" in page.inner_text("#error")
    assert "access_token" not in "".join(
        e.text() for e in stack.recorder.exchanges if e.server == "as"
    )


@pytest.fixture
def code_only_stack(db_url: str, tmp_path: Any) -> Any:
    from tests.e2e.conftest import start_stack

    yield from start_stack(db_url, tmp_path, allow_implicit=False)


def test_implicit_switched_off_server_wide(code_only_stack: Stack, page: Any) -> None:
    stack = code_only_stack
    meta = httpx.get(f"{stack.issuer}/.well-known/oauth-authorization-server").json()
    assert meta["response_types_supported"] == ["code"]
    seen = record_navigation(page)
    page.goto(
        f"{stack.issuer}/authorize?response_type=token&client_id={stack.client_id('spa-implicit')}"
        f"&redirect_uri={stack.spa}/&state=s2"
    )
    page.wait_for_selector("#error:not([hidden])")
    landed = next(u for u in seen["navigations"] if u.startswith(f"{stack.spa}/#"))
    assert parse_qs(urlsplit(landed).fragment)["error"] == ["unsupported_response_type"]


def test_code_with_pkce_shows_the_id_token_it_checked(stack: Stack, page: Any) -> None:
    run_spa(stack, page, "pkce")
    claims = page.evaluate("() => window.tokenpathSpa.idClaims()")
    assert claims["iss"] == stack.issuer and claims["aud"] == stack.client_id("spa-pkce")
    assert claims["nonce"] and page.is_visible("#id-claims")
    authorize = [e for e in stack.recorder.exchanges if e.target.startswith("/authorize?")]
    assert parse_qs(urlsplit(authorize[0].target).query)["nonce"] == [claims["nonce"]]


@pytest.mark.parametrize("tamper", ["signature", "nonce"])
def test_a_bad_id_token_is_refused_by_the_page(stack: Stack, page: Any, tamper: str) -> None:
    """A forged signature, or a validly signed token whose nonce is not the page's (the
    authorization request is rewritten on its way to the server, as an attacker's would be)."""

    def forge_signature(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        header, payload, signature = body["id_token"].split(".")
        signature = ("A" if signature[0] != "A" else "B") + signature[1:]
        body["id_token"] = f"{header}.{payload}.{signature}"
        route.fulfill(response=response, json=body)

    def swap_nonce(route: Any) -> None:
        parts = urlsplit(route.request.url)
        query = [
            (k, "not-the-page-nonce" if k == "nonce" else v) for k, v in parse_qsl(parts.query)
        ]
        route.continue_(url=urlunsplit(parts._replace(query=urlencode(query))))

    if tamper == "signature":
        page.route(f"{stack.issuer}/token", forge_signature)
    else:
        page.route(f"{stack.issuer}/authorize?*", swap_nonce)
    page.goto(stack.spa)
    page.click("#login-pkce")
    sign_in_and_allow(page)
    page.wait_for_selector("#error:not([hidden])")
    assert tamper in page.inner_text("#error") and "ID token" in page.inner_text("#error")
    assert page.evaluate("() => window.tokenpathSpa.heldToken()") is None
    assert page.is_hidden("#status")
