"""Catalog A8: leaks through ``Referer``, browser history and logs (RFC 9700 §4.2.4, §4.3;
RFC 6750 §2.3; OAuth 2.1 §10).

The AS's pages load nothing from other origins (so no third party receives a ``Referer`` with
a code or ``state``) and say ``Referrer-Policy: no-referrer``; the demo web app answers its
callback with a 303 to a URL without the code; the demo API refuses tokens in the query; and
no code, token, secret or password reaches a log line during a whole code + refresh flow.
"""

from __future__ import annotations

import logging
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx
import pytest

from tests.clients.webapp.conftest import Browser
from tests.security.conftest import ISSUER, Lab, demo_api
from tests.web.conftest import PASSWORD


class _Resources(HTMLParser):
    """Every URL the page makes the browser fetch or link to."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "action", "srcset", "poster", "data") and value:
                self.urls.append(value)


def foreign(html: str, allowed: set[str]) -> list[str]:
    parser = _Resources()
    parser.feed(html)
    found = []
    for url in parser.urls:
        parts = urlsplit(url)
        if (parts.netloc and f"{parts.scheme}://{parts.netloc}" not in allowed) or (
            parts.scheme and parts.scheme not in ("http", "https")
        ):
            found.append(url)
    return found


async def as_pages(lab: Lab) -> dict[str, httpx.Response]:
    pages = {
        "login-prompt": await lab.authz("conf"),
        "login": await lab.http.get("/login"),
        "error": await lab.http.get("/authorize?client_id=unknown"),
        "not-found": await lab.http.get("/nope"),
        "logout": await lab.http.get("/logout"),
        "home": await lab.http.get("/"),
    }
    await lab.sign_in()
    pages["consent"] = await lab.authz("conf")
    assert 'action="/consent"' in pages["consent"].text
    pages["form-post"] = await lab.approve(await lab.authz("conf", response_mode="form_post"))
    return pages


@pytest.mark.anyio
async def test_a08_1_as_pages_load_no_third_party_resources(lab: Lab) -> None:
    for name, page in (await as_pages(lab)).items():
        assert page.headers["content-type"].startswith("text/html"), name
        # the form_post page posts to the client: the one foreign URL it may name
        allowed = {ISSUER, "https://client.example"} if name == "form-post" else {ISSUER}
        assert foreign(page.text, allowed) == [], name
        assert "default-src 'self'" in page.headers["content-security-policy"], name


@pytest.mark.anyio
async def test_a08_1_as_pages_send_no_referrer(lab: Lab) -> None:
    """NICE (SHOULD): the header, on every page that may carry a code or state in its URL."""
    for name, page in (await as_pages(lab)).items():
        assert page.headers["referrer-policy"] == "no-referrer", name


def test_a08_2_webapp_callback_is_a_303_to_a_url_without_the_code(agent: Browser) -> None:
    callback = agent.http.get(agent.authorize(agent.start()))
    assert callback.status_code == 303
    assert callback.headers["referrer-policy"] == "no-referrer"
    location = callback.headers["location"]
    assert "code" not in location and "state" not in location
    assert foreign(agent.http.get(f"{agent.stack.webapp}/").text, {agent.stack.issuer}) == []


@pytest.mark.anyio
async def test_a08_3_demo_api_refuses_a_valid_token_in_the_query(lab: Lab) -> None:
    access_token = (await lab.tokens("conf"))["access_token"]
    async with demo_api(lab) as rs:
        in_header = await rs.get("/api/me", headers={"Authorization": f"Bearer {access_token}"})
        assert in_header.status_code == 200
        in_query = await rs.get("/api/me", params={"access_token": access_token})
        assert in_query.status_code in (400, 401)
        assert access_token not in in_query.text


@pytest.mark.anyio
async def test_a08_5_no_secret_reaches_the_logs(lab: Lab, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    code = await lab.code("conf")
    first = (await lab.redeem("conf", code)).json()
    refreshed = await lab.token(
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}, client="conf"
    )
    second = refreshed.json()
    machine = (await lab.token({"grant_type": "client_credentials"}, client="machine")).json()
    await lab.introspect(second["access_token"])
    await lab.server.post_form("/revoke", [("token", second["refresh_token"])], **lab.auth("conf"))
    await lab.redeem("conf", code)  # a replay: logged as an event, without the code
    secrets = [
        code,
        first["access_token"],
        first["refresh_token"],
        second["access_token"],
        second["refresh_token"],
        machine["access_token"],
        PASSWORD,
        *lab.secrets.values(),
        *(c.value for c in lab.http.cookies.jar),
    ]
    assert caplog.records, "nothing was logged at all: the check would prove nothing"
    logged = caplog.text
    assert [s for s in secrets if s in logged] == []
