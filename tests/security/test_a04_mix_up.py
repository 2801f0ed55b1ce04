"""Catalog A4: mix-up (RFC 9700 §4.4.2.1; RFC 9207).

Every authorization response names its issuer in ``iss`` — success or error, query, fragment
or form_post — and the metadata says so, so a client talking to several servers can tell which
one answered. The demo clients compare ``iss`` with the issuer they started the flow with and
abort before any token request on a mismatch.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.clients.webapp.conftest import Browser, Since
from tests.e2e.conftest import Stack
from tests.security.conftest import ISSUER, Lab, location_params
from tests.security.test_a03_state import forged_callback, with_query
from tests.web.conftest import forms
from tokenpath.clients.native import LoginError, NativeClient


@pytest.mark.anyio
async def test_a04_1_metadata_says_iss_is_returned(lab: Lab) -> None:
    assert (await lab.metadata())["authorization_response_iss_parameter_supported"] is True


@pytest.mark.anyio
async def test_a04_2_success_redirect_carries_the_exact_issuer(lab: Lab) -> None:
    issuer = (await lab.metadata())["issuer"]
    params = location_params(await lab.redirect("conf"))
    assert "code" in params and params["iss"] == issuer == ISSUER


@pytest.mark.anyio
@pytest.mark.parametrize(
    "change",
    [{"scope": "unknown"}, {"response_type": "bogus"}, {"code_challenge_method": "plain"},
     {"prompt": "bogus"}],
    ids=["scope", "response_type", "pkce", "prompt"],
)  # fmt: skip
async def test_a04_3_error_redirects_carry_iss(lab: Lab, change: dict[str, str]) -> None:
    await lab.sign_in()
    response = await lab.authz("conf", **change)
    assert response.status_code == 302
    params = location_params(response)
    assert params["error"] and params["iss"] == ISSUER


@pytest.mark.anyio
async def test_a04_4_fragment_response_carries_iss(implicit_lab: Lab) -> None:
    response = await implicit_lab.redirect(
        "implicit", response_type="token", code_challenge=None, code_challenge_method=None
    )
    fragment = dict(parse_qsl(urlsplit(response.headers["location"]).fragment))
    assert "access_token" in fragment and fragment["iss"] == ISSUER


@pytest.mark.anyio
async def test_a04_4_form_post_response_carries_iss(lab: Lab) -> None:
    await lab.sign_in()
    page = await lab.approve(await lab.authz("conf", response_mode="form_post"))
    if page.status_code == 302:  # not expected: consent is asked the first time
        pytest.fail("form_post answered with a redirect")
    fields = dict(forms(page.text)[0].fields)
    assert "code" in fields and fields["iss"] == ISSUER


@pytest.mark.anyio
async def test_a04_4_form_post_error_carries_iss(lab: Lab) -> None:
    await lab.sign_in()
    page = await lab.authz("conf", response_mode="form_post", scope="unknown")
    assert page.status_code == 200
    fields = dict(forms(page.text)[0].fields)
    assert fields["error"] == "invalid_scope" and fields["iss"] == ISSUER


@pytest.mark.parametrize(
    "iss", [None, "http://127.0.0.1:1", "ISSUER/"], ids=["none", "evil", "slash"]
)
def test_a04_webapp_aborts_on_a_foreign_iss(agent: Browser, iss: str | None) -> None:
    callback = agent.authorize(agent.start())
    if iss == "ISSUER/":
        iss = agent.stack.issuer + "/"
    since = Since(agent.stack)
    response = agent.http.get(with_query(callback, iss=iss))
    assert 400 <= response.status_code < 500
    assert since.token_requests() == []


def test_a04_native_client_aborts_on_a_foreign_iss(stack: Stack) -> None:
    since = Since(stack)
    client = NativeClient(stack.issuer, stack.client_id("native"))
    forged = forged_callback(stack, state=None, iss="http://127.0.0.1:1")
    with pytest.raises(LoginError, match="iss"):
        client.login(open_browser=forged)  # type: ignore[arg-type]
    assert since.token_requests() == []
