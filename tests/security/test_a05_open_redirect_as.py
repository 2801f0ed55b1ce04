"""Catalog A5: the authorization server as an open redirector (RFC 9700 §4.11.2; RFC 6749
§4.1.2.1; OAuth 2.1 §7.13.2).

Until the client and its redirect URI are known good, every error is a page at the AS, never a
redirect — whatever ``prompt`` says and whether or not the browser is signed in. URL parameters
of the AS's own pages (``return_to``) only lead back into the AS.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlencode

import pytest

from tests.security.conftest import EVIL, ISSUER, Lab, assert_not_redirected
from tests.web.conftest import PASSWORD, forms

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
async def test_a05_1_unknown_client_is_not_redirected(lab: Lab, signed_in: bool) -> None:
    if signed_in:
        await lab.sign_in()
    response = await lab.http.get(
        "/authorize?"
        + urlencode({"client_id": "unknown", "redirect_uri": EVIL, "response_type": "code"})
    )
    assert_not_redirected(response)


@pytest.mark.parametrize("client", ["conf", "spa", "native"])
async def test_a05_2_unregistered_redirect_uri_is_not_redirected(lab: Lab, client: str) -> None:
    await lab.sign_in()
    response = await lab.authz(client, redirect_uri=EVIL)
    assert_not_redirected(response)
    assert "evil.example" not in response.text


async def test_a05_3_missing_redirect_uri_with_several_registered(lab: Lab) -> None:
    await lab.sign_in()
    response = await lab.authz("conf_multi", redirect_uri=None)
    assert_not_redirected(response)


async def test_a05_4_logout_redirects_only_to_a_registered_post_logout_uri(lab: Lab) -> None:
    """OIDC RP-Initiated Logout §2-3: with a valid ``id_token_hint`` the AS redirects to a
    registered ``post_logout_redirect_uri`` and never to any other."""
    body = await lab.tokens("conf")
    assert "id_token" in body
    await lab.sign_in()
    page = await lab.http.get(
        "/logout?"
        + urlencode({"id_token_hint": body["id_token"], "post_logout_redirect_uri": EVIL})
    )
    response = await lab.server.submit(forms(page.text)[0])
    assert response.status_code == 303
    assert response.headers["location"] == "/logout/done"
    # the same request with the URI the client registered is followed, with its state
    client = lab.clients["conf"]
    bye = f"{client.redirect_uris[0]}/bye"
    await lab.server.ctx.stores.clients.update(
        dataclasses.replace(client, post_logout_redirect_uris=(bye,))
    )
    body = await lab.tokens("conf")
    query = {"id_token_hint": body["id_token"], "post_logout_redirect_uri": bye, "state": "s"}
    page = await lab.http.get("/logout?" + urlencode(query))
    response = await lab.server.submit(forms(page.text)[0])
    assert response.status_code == 303 and response.headers["location"] == f"{bye}?state=s"


async def test_a05_4_logout_never_follows_an_unregistered_uri(lab: Lab) -> None:
    """Without a client to vouch for it, a ``post_logout_redirect_uri`` goes nowhere; a hint
    that is not our ID token is an error page with nothing to submit."""
    await lab.sign_in()
    forged = urlencode({"post_logout_redirect_uri": EVIL, "id_token_hint": "x.y.z"})
    refused = await lab.http.get(f"/logout?{forged}")
    assert_not_redirected(refused)
    assert refused.status_code == 400 and forms(refused.text) == []
    page = await lab.http.get("/logout?" + urlencode({"post_logout_redirect_uri": EVIL}))
    assert page.status_code == 200 and "location" not in page.headers
    form = forms(page.text)[0]
    response = await lab.server.submit(form, post_logout_redirect_uri=EVIL)
    assert response.status_code == 303 and response.headers["location"] == "/logout/done"


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/authorize", "/\\evil.example", "javascript:alert(1)"],
)
async def test_a05_6_return_to_after_login_stays_at_the_as(lab: Lab, target: str) -> None:
    page = await lab.http.get("/login?" + urlencode({"return_to": target}))
    assert forms(page.text)[0].value("return_to") == "/"
    response = await lab.server.submit(
        forms(page.text)[0], username="alice", password=PASSWORD, return_to=target
    )
    assert response.status_code == 303 and response.headers["location"] == "/"


@pytest.mark.parametrize("prompt", ["none", "consent", "none consent"])
async def test_a05_7_prompt_none_validates_the_client_first(lab: Lab, prompt: str) -> None:
    """django-oauth-toolkit #1719: ``login_required`` was sent to the supplied URI."""
    query = {
        "client_id": "unknown",
        "redirect_uri": EVIL,
        "response_type": "code",
        "prompt": prompt,
    }
    assert_not_redirected(await lab.http.get("/authorize?" + urlencode(query)))
    assert_not_redirected(await lab.authz("conf", redirect_uri=EVIL, prompt=prompt))


async def test_a05_7_prompt_none_anonymous_goes_only_to_the_registered_uri(lab: Lab) -> None:
    response = await lab.authz("conf", prompt="none")
    assert response.status_code == 302
    assert response.headers["location"].startswith("https://client.example/cb?")
    assert "error=login_required" in response.headers["location"]
    assert f"iss={ISSUER.replace(':', '%3A').replace('/', '%2F')}" in response.headers["location"]
