"""Headers, cookies and CSRF: RFC 9700 §4.16 (clickjacking), §4.2.4 (Referer), §4.12 (303)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlencode

import httpx
import pytest

from tests.web.conftest import CB, Server, forms, serve
from tokenpath.storage.memory import memory_stores
from tokenpath.web.security import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.anyio

SECURITY_HEADERS = {
    "x-frame-options": "DENY",
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
}


def assert_secure_headers(response: httpx.Response, *, no_store: bool = True) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (response.url, name)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "form-action" not in response.headers["content-security-policy"]
    if no_store:
        assert response.headers["cache-control"] == "no-store", response.url


async def interactive_pages(server: Server) -> list[httpx.Response]:
    await server.user()
    client, _ = await server.client()
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": CB,
            "state": "x",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuEsSPVcj1M",
            "code_challenge_method": "S256",
        }
    )
    pages = [
        await server.http.get("/"),
        await server.http.get("/login"),
        await server.http.get(f"/authorize?{query}"),  # login prompt
        await server.http.get("/authorize?client_id=unknown"),  # error page
        await server.http.get("/logout"),
        await server.http.get("/nope"),
    ]
    await server.sign_in()
    consent = await server.http.get(f"/authorize?{query}")
    assert 'action="/consent"' in consent.text
    pages.append(consent)
    pages.append(await server.submit(forms(consent.text)[0], ("decision", "approve")))  # 303
    return pages


async def test_every_interactive_page_has_the_security_headers(server: Server) -> None:
    for response in await interactive_pages(server):
        assert_secure_headers(response)


async def test_no_html_page_loads_third_party_resources(server: Server) -> None:
    for response in await interactive_pages(server):
        for marker in ('src="http', "src='http", 'href="http', 'src="//', 'href="//'):
            assert marker not in response.text, (response.url, marker)


async def test_json_endpoints_have_headers_and_token_is_no_store(server: Server) -> None:
    token = await server.post_form("/token", [("grant_type", "client_credentials")])
    assert_secure_headers(token)
    assert token.headers["pragma"] == "no-cache"
    for path in ("/jwks", "/.well-known/oauth-authorization-server", "/static/tokenpath.css"):
        response = await server.http.get(path)
        assert_secure_headers(response, no_store=False)


async def test_authorize_has_no_cors_headers(server: Server) -> None:
    response = await server.http.get(
        "/authorize?client_id=x", headers={"Origin": "https://evil.example"}
    )
    assert not any(h.startswith("access-control-") for h in response.headers)


@pytest.fixture
async def cors_server() -> AsyncIterator[Server]:
    async for s in serve(memory_stores(), cors_origins=["http://127.0.0.1:9003"]):
        yield s


async def test_token_cors_only_for_configured_origins(cors_server: Server) -> None:
    allowed = await cors_server.http.options(
        "/token",
        headers={"Origin": "http://127.0.0.1:9003", "Access-Control-Request-Method": "POST"},
    )
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == "http://127.0.0.1:9003"
    assert "access-control-allow-credentials" not in allowed.headers
    other = await cors_server.http.options(
        "/token",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in other.headers
    posted = await cors_server.post_form(
        "/token", [("grant_type", "x")], Origin="http://127.0.0.1:9003"
    )
    assert posted.headers["access-control-allow-origin"] == "http://127.0.0.1:9003"


# --- cookies ----------------------------------------------------------------------------------


def set_cookie(response: httpx.Response, name: str) -> str:
    line = next(v for v in response.headers.get_list("set-cookie") if v.startswith(name + "="))
    return line.lower()


async def test_session_and_csrf_cookie_attributes_on_http_loopback(server: Server) -> None:
    page = await server.http.get("/login")
    csrf = set_cookie(page, "tp_csrf")
    assert "httponly" in csrf and "samesite=strict" in csrf and "path=/" in csrf
    await server.user()
    form = forms(page.text)[0]
    signed_in = await server.submit(form, username="alice", password="correct horse battery")
    session = set_cookie(signed_in, "tp_session")
    assert "httponly" in session and "samesite=lax" in session and "path=/" in session
    assert "secure" not in session  # http://127.0.0.1 cannot carry Secure cookies
    assert "domain=" not in session


async def test_https_issuer_uses_host_prefixed_secure_cookies(https_server: Server) -> None:
    server = https_server
    page = await server.http.get("/login")
    csrf = set_cookie(page, "__Host-tp_csrf")
    assert "secure" in csrf and "httponly" in csrf and "samesite=strict" in csrf
    await server.user()
    signed_in = await server.submit(
        forms(page.text)[0], username="alice", password="correct horse battery"
    )
    assert signed_in.status_code == 303
    session = set_cookie(signed_in, "__Host-tp_session")
    assert "secure" in session and "httponly" in session and "samesite=lax" in session
    assert "path=/" in session and "domain=" not in session
    home = await server.http.get("/")
    assert "signed in as <strong>alice</strong>" in home.text


async def test_session_cookie_holds_no_user_data(server: Server) -> None:
    await server.user()
    await server.sign_in()
    value = server.http.cookies["tp_session"]
    assert "alice" not in value and len(value) >= 43


# --- CSRF -------------------------------------------------------------------------------------


async def test_login_without_csrf_is_403_and_signs_nobody_in(server: Server) -> None:
    await server.user()
    await server.http.get("/login")  # the browser has the cookie, the attacker has no token
    response = await server.post_form(
        "/login", [("username", "alice"), ("password", "correct horse battery")]
    )
    assert response.status_code == 403
    assert "tp_session" not in server.http.cookies
    assert server.ctx.stores.sessions.rows == {}  # type: ignore[attr-defined]


async def test_login_with_a_wrong_csrf_token_is_403(server: Server) -> None:
    await server.user()
    form = await server.form("/login")
    response = await server.submit(
        form, username="alice", password="correct horse battery", csrf="x" * 43
    )
    assert response.status_code == 403 and "location" not in response.headers


async def test_login_without_the_csrf_cookie_is_403(server: Server) -> None:
    await server.user()
    form = await server.form("/login")
    server.http.cookies.clear()
    response = await server.submit(form, username="alice", password="correct horse battery")
    assert response.status_code == 403


async def test_cross_origin_post_is_403_even_with_a_valid_token(server: Server) -> None:
    await server.user()
    form = await server.form("/login")
    data = [(k, v) for k, v in form.fields if k in ("csrf", "return_to")]
    data += [("username", "alice"), ("password", "correct horse battery")]
    evil = await server.post_form("/login", data, Origin="https://evil.example")
    assert evil.status_code == 403
    cross_site = await server.post_form("/login", data, **{"Sec-Fetch-Site": "cross-site"})
    assert cross_site.status_code == 403
    assert server.ctx.stores.sessions.rows == {}  # type: ignore[attr-defined]
    # Same origin, or "Origin: null" (what no-referrer pages send), with the token: accepted.
    same = await server.post_form(
        "/login", data, Origin=server.settings.issuer, **{"Sec-Fetch-Site": "same-origin"}
    )
    assert same.status_code == 303
    fresh = await server.form("/login")  # a sign-in form's token is single-use
    data = [(k, v) for k, v in fresh.fields if k in ("csrf", "return_to")] + data[2:]
    null = await server.post_form("/login", data, Origin="null")
    assert null.status_code == 303


async def test_consent_without_csrf_is_403_and_issues_no_code(server: Server) -> None:
    await server.user()
    client, _ = await server.client()
    await server.sign_in()
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": CB,
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuEsSPVcj1M",
            "code_challenge_method": "S256",
        }
    )
    form = forms((await server.http.get(f"/authorize?{query}")).text)[0]
    forged = [(k, v) for k, v in form.fields if k != "csrf"] + [("decision", "approve")]
    response = await server.post_form("/consent", forged)
    assert response.status_code == 403 and "location" not in response.headers
    assert server.ctx.stores.codes.rows == {}  # type: ignore[attr-defined]
    assert server.ctx.stores.consents.rows == {}  # type: ignore[attr-defined]
    same_site = await server.post_form(
        "/consent", [*form.fields, ("decision", "approve")], **{"Sec-Fetch-Site": "same-site"}
    )
    assert same_site.status_code == 403  # a sibling subdomain is not our origin
    assert server.ctx.stores.codes.rows == {}  # type: ignore[attr-defined]
    approved = await server.submit(form, ("decision", "approve"))
    assert approved.status_code == 303
    assert len(server.ctx.stores.codes.rows) == 1  # type: ignore[attr-defined]


async def test_consent_with_two_decisions_is_refused(server: Server) -> None:
    await server.user()
    await server.sign_in()
    form = await server.form("/logout")  # any page: we only need the CSRF token
    data = [("csrf", form.value("csrf")), ("decision", "approve"), ("decision", "deny")]
    response = await server.post_form("/consent", data)
    assert response.status_code == 400


async def test_logout_without_csrf_keeps_the_session(server: Server) -> None:
    await server.user()
    await server.sign_in()
    response = await server.post_form("/logout/confirm", [])
    assert response.status_code == 403
    home = await server.http.get("/")
    assert "signed in as" in home.text


async def test_crash_is_an_oauth_500_with_headers(server: Server) -> None:
    class Broken:
        async def jwks(self) -> None:
            raise RuntimeError("boom")

    object.__setattr__(server.ctx, "signer", Broken())
    transport = httpx.ASGITransport(app=server.http._transport.app, raise_app_exceptions=False)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url=server.settings.issuer) as http:
        response = await http.get("/jwks")
    assert response.status_code == 500
    assert response.json() == {"error": "server_error", "error_description": "internal error"}
    assert response.headers["x-frame-options"] == "DENY"


async def test_https_issuer_sends_hsts_on_every_response(https_server: Server) -> None:
    for path in ("/login", "/jwks", "/.well-known/oauth-authorization-server", "/nowhere"):
        response = await https_server.http.get(path)
        assert response.headers["strict-transport-security"] == "max-age=31536000", path


async def test_http_loopback_issuer_sends_no_hsts(server: Server) -> None:
    assert "strict-transport-security" not in (await server.http.get("/login")).headers
