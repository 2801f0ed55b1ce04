"""The endpoints over real ASGI: what a browser and a client see on the wire."""

from __future__ import annotations

import base64
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit

import pytest

from tests.web.conftest import CB, Server, forms
from tokenpath.core.pkce import s256
from tokenpath.core.records import ClientType, GrantType

pytestmark = pytest.mark.anyio

VERIFIER = "v" * 43


def basic(client_id: str, secret: str) -> str:
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def authorize_query(client_id: str, **extra: str) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CB,
        "scope": "openid notes:read",
        "state": "s t+a/te",
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
        **extra,
    }
    return "/authorize?" + urlencode(params)


async def test_full_code_flow_through_login_and_consent(server: Server) -> None:
    await server.user()
    client, secret = await server.client()
    assert secret is not None
    start = authorize_query(client.client_id)

    login_page = await server.http.get(start)
    assert login_page.status_code == 200 and "location" not in login_page.headers
    login_form = forms(login_page.text)[0]
    assert login_form.action == "/login"
    return_to = urlsplit(login_form.value("return_to"))
    assert return_to.path == "/authorize" and not return_to.netloc
    assert parse_qsl(return_to.query) == parse_qsl(urlsplit(start).query)
    signed_in = await server.submit(login_form, username="alice", password="correct horse battery")
    assert signed_in.status_code == 303
    back = signed_in.headers["location"]
    assert back.startswith("/authorize?")

    consent_page = await server.http.get(back)
    assert consent_page.status_code == 200
    assert "Notes &lt;b&gt;app&lt;/b&gt;" in consent_page.text  # client name escaped
    assert client.client_id in consent_page.text and "client.example" in consent_page.text
    assert "Read your notes" in consent_page.text
    consent_form = forms(consent_page.text)[0]
    assert consent_form.action == "/consent"
    assert ("decision", "approve") in consent_form.buttons

    approved = await server.submit(consent_form, ("decision", "approve"))
    assert approved.status_code == 303
    location = urlsplit(approved.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CB
    query = dict(parse_qsl(location.query))
    assert query["state"] == "s t+a/te"
    assert query["iss"] == server.settings.issuer
    code = query["code"]

    token = await server.post_form(
        "/token",
        [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
        Authorization=basic(client.client_id, secret),
    )
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["token_type"] == "Bearer" and body["access_token"].count(".") == 2
    assert token.headers["cache-control"] == "no-store"

    # Consent is remembered: the next request goes straight back with a new code (302 on GET).
    again = await server.http.get(authorize_query(client.client_id))
    assert again.status_code == 302
    assert "code" in dict(parse_qsl(urlsplit(again.headers["location"]).query))


async def test_deny_redirects_with_access_denied(server: Server) -> None:
    await server.user()
    client, _ = await server.client()
    await server.sign_in()
    page = await server.http.get(authorize_query(client.client_id))
    denied = await server.submit(forms(page.text)[0], ("decision", "deny"))
    assert denied.status_code == 303
    query = dict(parse_qsl(urlsplit(denied.headers["location"]).query))
    assert query["error"] == "access_denied" and query["state"] == "s t+a/te"
    assert "code" not in query


async def test_post_to_authorize_reads_the_form(server: Server) -> None:
    await server.user()
    client, _ = await server.client()
    await server.sign_in()
    params = dict(parse_qsl(urlsplit(authorize_query(client.client_id)).query))
    page = await server.post_form("/authorize", list(params.items()))
    assert page.status_code == 200
    assert forms(page.text)[0].action == "/consent"


async def test_post_to_authorize_without_session_returns_to_a_get_url(server: Server) -> None:
    client, _ = await server.client()
    params = list(parse_qsl(urlsplit(authorize_query(client.client_id)).query))
    page = await server.post_form("/authorize", params)
    return_to = forms(page.text)[0].value("return_to")
    assert return_to.startswith("/authorize?")
    assert parse_qsl(urlsplit(return_to).query) == params


async def test_untrusted_redirect_uri_is_an_error_page_without_location(server: Server) -> None:
    client, _ = await server.client()
    response = await server.http.get(
        authorize_query(client.client_id, redirect_uri="https://evil.example/cb")
    )
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "invalid_request" in response.text and "evil.example" not in response.text


async def test_unknown_client_error_page_escapes_nothing_dangerous(server: Server) -> None:
    response = await server.http.get("/authorize?client_id=%3Cscript%3E&response_type=code")
    assert response.status_code == 400 and "location" not in response.headers
    assert "<script>" not in response.text


async def test_form_post_response_mode_renders_an_auto_submitting_form(server: Server) -> None:
    await server.user()
    client, _ = await server.client()
    await server.sign_in()
    page = await server.http.get(authorize_query(client.client_id, response_mode="form_post"))
    approved = await server.submit(forms(page.text)[0], ("decision", "approve"))
    assert approved.status_code == 200 and "location" not in approved.headers
    form = forms(approved.text)[0]
    assert form.action == CB and form.method == "post"
    fields = dict(form.fields)
    assert set(fields) == {"code", "state", "iss"} and fields["state"] == "s t+a/te"
    assert '<script src="/static/form_post.js"></script>' in approved.text
    assert "<script>" not in approved.text  # nothing inline: the CSP stays strict
    script = await server.http.get("/static/form_post.js")
    assert script.status_code == 200 and "submit()" in script.text


async def test_login_failure_message_is_the_same_for_unknown_user_and_bad_password(
    server: Server,
) -> None:
    await server.user()
    wrong = await server.submit(await server.form("/login"), username="alice", password="nope!!!!")
    unknown = await server.submit(
        await server.form("/login"), username="mallory", password="correct horse battery"
    )
    assert wrong.status_code == unknown.status_code == 400
    assert "set-cookie" not in wrong.headers or "tp_session" not in wrong.headers["set-cookie"]

    def message(html: str) -> str:
        return html.split('role="alert">')[1].split("<")[0]

    assert message(wrong.text) == message(unknown.text) == "The user name or password is incorrect."
    assert "nope!!!!" not in wrong.text  # the password is never echoed


async def test_login_is_throttled_with_429(server: Server) -> None:
    await server.user()
    for _ in range(server.ctx.policy.login_failures_per_minute):
        await server.submit(await server.form("/login"), username="alice", password="wrong pass")
    blocked = await server.submit(
        await server.form("/login"), username="alice", password="correct horse battery"
    )
    # The bucket refills one attempt every 60/10 s; the next attempt may come then.
    assert blocked.status_code == 429 and blocked.headers["retry-after"] == "6"


async def test_successful_login_answers_303_to_home_and_sets_the_session(server: Server) -> None:
    await server.user()
    response = await server.sign_in()
    assert response.status_code == 303 and response.headers["location"] == "/"
    home = await server.http.get("/")
    assert "signed in as <strong>alice</strong>" in home.text


@pytest.mark.parametrize(
    "return_to",
    [
        "//evil.example/authorize?x=1",
        "https://evil.example/authorize?x=1",
        "/\\evil.example",
        "/authorize/../\\evil",
        "/authorizex?y=1",
        "/authorize?x=1#frag",
        "/authorize?x=1\r\nLocation: https://evil.example",
        "javascript:alert(1)",
        "/authorize?é=1",
    ],
)
async def test_open_redirect_attempts_in_return_to_go_home(server: Server, return_to: str) -> None:
    await server.user()
    form = await server.form("/login")
    response = await server.submit(
        form, username="alice", password="correct horse battery", return_to=return_to
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


async def test_return_to_from_the_login_query_is_sanitized(server: Server) -> None:
    page = await server.http.get("/login?" + urlencode({"return_to": "https://evil.example/"}))
    assert forms(page.text)[0].value("return_to") == "/"
    page = await server.http.get("/login?" + urlencode({"return_to": "/authorize?a=b"}))
    assert forms(page.text)[0].value("return_to") == "/authorize?a=b"


async def test_logout_deletes_the_session_and_clears_the_cookie(server: Server) -> None:
    await server.user()
    await server.sign_in()
    session_id = server.http.cookies["tp_session"]
    confirm = await server.form("/logout")
    response = await server.submit(confirm)
    assert response.status_code == 303 and response.headers["location"] == "/logout/done"
    assert 'tp_session=""' in response.headers["set-cookie"]
    from tokenpath.core.login import current_session

    assert await current_session(session_id, ctx=server.ctx) is None


async def test_signing_in_again_replaces_the_old_session(server: Server) -> None:
    await server.user()
    await server.sign_in()
    first = server.http.cookies["tp_session"]
    await server.sign_in()
    from tokenpath.core.login import current_session

    assert await current_session(first, ctx=server.ctx) is None
    assert server.http.cookies["tp_session"] != first


# --- JSON endpoints -------------------------------------------------------------------------


async def test_token_wrong_method_is_405_with_allow_and_json(server: Server) -> None:
    for method in ("GET", "PUT", "DELETE"):
        response = await server.http.request(method, "/token")
        assert response.status_code == 405
        assert "POST" in response.headers["allow"]
        assert response.json()["error"] == "invalid_request"
        assert method in response.json()["error_description"]


@pytest.mark.parametrize(
    "path",
    ["/jwks", "/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"],
)
async def test_json_documents_answer_405_in_json(server: Server, path: str) -> None:
    response = await server.http.post(path)
    assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"
    assert response.json()["error"] == "invalid_request"


async def test_html_endpoints_answer_405_with_allow(server: Server) -> None:
    response = await server.http.put("/authorize")
    assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD, POST"
    response = await server.http.get("/consent")
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    "content_type", [None, "application/json", "multipart/form-data; boundary=x", "text/plain"]
)
async def test_token_requires_form_encoding(server: Server, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = await server.http.post(
        "/token", content=b"grant_type=client_credentials", headers=headers
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_token_accepts_a_charset_parameter(server: Server) -> None:
    response = await server.http.post(
        "/token",
        content=b"grant_type=nope&client_id=x",
        headers={"Content-Type": "Application/X-WWW-Form-Urlencoded; charset=UTF-8"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("body", [b"grant_type=\xff\xfe", b"grant_type=%ff%fe", b"a=%C3%28"])
async def test_non_utf8_token_body_is_invalid_request(server: Server, body: bytes) -> None:
    response = await server.http.post(
        "/token", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "request parameters are not valid UTF-8",
    }


async def test_oversized_token_body_is_413_with_oauth_json(server: Server) -> None:
    body = b"grant_type=client_credentials&pad=" + b"a" * (70 * 1024)
    response = await server.http.post(
        "/token", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_request"


async def test_oversized_streamed_body_is_refused_without_content_length(server: Server) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(100):
            yield b"a" * 1024

    response = await server.http.post(
        "/token", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 413 and response.json()["error"] == "invalid_request"


async def test_too_many_fields_is_invalid_request(server: Server) -> None:
    body = "&".join(f"f{i}=x" for i in range(500)).encode()
    response = await server.http.post(
        "/token", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


@pytest.mark.parametrize("query", [b"client_id=%ff", b"client_id=\xc3\x28", b"a=" + b"x" * 17000])
async def test_bad_authorize_query_is_a_400_page(server: Server, query: bytes) -> None:
    response = await server.http.get("/authorize?" + query.decode("latin-1"))
    assert response.status_code in (400, 413)
    assert response.headers["content-type"].startswith("text/html")
    assert "location" not in response.headers


async def test_client_credentials_and_revocation_and_introspection(server: Server) -> None:
    client, secret = await server.client(
        grant_types=(GrantType.CLIENT_CREDENTIALS,), redirect_uris=()
    )
    assert secret is not None
    auth = basic(client.client_id, secret)
    issued = await server.post_form(
        "/token", [("grant_type", "client_credentials")], Authorization=auth
    )
    assert issued.status_code == 200, issued.text
    access_token = issued.json()["access_token"]
    active = await server.post_form("/introspect", [("token", access_token)], Authorization=auth)
    assert active.json()["active"] is True
    revoked = await server.post_form("/revoke", [("token", access_token)], Authorization=auth)
    assert revoked.status_code == 200
    inactive = await server.post_form("/introspect", [("token", access_token)], Authorization=auth)
    assert inactive.json() == {"active": False}


async def test_bad_client_secret_is_401_with_challenge(server: Server) -> None:
    client, _ = await server.client(grant_types=(GrantType.CLIENT_CREDENTIALS,), redirect_uris=())
    response = await server.post_form(
        "/token",
        [("grant_type", "client_credentials")],
        Authorization=basic(client.client_id, "wrong"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")


async def test_metadata_and_jwks_are_served(server: Server) -> None:
    meta = await server.http.get("/.well-known/oauth-authorization-server")
    assert meta.status_code == 200
    body = meta.json()
    assert body["issuer"] == server.settings.issuer
    assert body["authorization_endpoint"] == server.settings.issuer + "/authorize"
    assert body["code_challenge_methods_supported"] == ["S256"]
    jwks = await server.http.get("/jwks")
    keys = jwks.json()["keys"]
    assert len(keys) == 1 and keys[0]["kty"] == "EC" and "d" not in keys[0]
    assert keys[0]["kid"] == (await server.ctx.signer.jwks())["keys"][0]["kid"]


async def test_public_client_pkce_flow_and_no_secret(server: Server) -> None:
    await server.user()
    client, secret = await server.client(
        kind=ClientType.PUBLIC, redirect_uris=("http://127.0.0.1/cb",)
    )
    assert secret is None
    await server.sign_in()
    page = await server.http.get(
        authorize_query(client.client_id, redirect_uri="http://127.0.0.1:53123/cb")
    )
    approved = await server.submit(forms(page.text)[0], ("decision", "approve"))
    location = urlsplit(approved.headers["location"])
    assert location.netloc == "127.0.0.1:53123"
    code = dict(parse_qsl(location.query))["code"]
    token = await server.post_form(
        "/token",
        [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", "http://127.0.0.1:53123/cb"),
            ("client_id", client.client_id),
            ("code_verifier", VERIFIER),
        ],
    )
    assert token.status_code == 200, token.text


async def test_unknown_path_is_an_html_404(server: Server) -> None:
    response = await server.http.get("/nope")
    assert response.status_code == 404 and "no page" in response.text


async def test_home_page_links_metadata(server: Server) -> None:
    response = await server.http.get("/")
    assert response.status_code == 200
    assert 'href="/.well-known/oauth-authorization-server"' in response.text
    assert "not signed in" in response.text


async def test_no_secret_reaches_the_logs(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    """Catalog A8.5: codes, tokens, secrets, passwords and session ids never appear in logs."""
    import logging

    caplog.set_level(logging.DEBUG)
    await server.user()
    client, secret = await server.client()
    assert secret is not None
    await server.sign_in()
    page = await server.http.get(authorize_query(client.client_id))
    approved = await server.submit(forms(page.text)[0], ("decision", "approve"))
    code = dict(parse_qsl(urlsplit(approved.headers["location"]).query))["code"]
    token = await server.post_form(
        "/token",
        [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", CB),
         ("code_verifier", VERIFIER)],
        Authorization=basic(client.client_id, secret),
    )  # fmt: skip
    secrets = [
        code,
        secret,
        "correct horse battery",
        token.json()["access_token"],
        server.http.cookies["tp_session"],
        server.http.cookies["tp_csrf"],
    ]
    logged = caplog.text
    assert not [s for s in secrets if s in logged]
