"""Catalog A14: no 307/308 after a POST that may carry credentials (RFC 9700 §4.12;
OAuth 2.1 §7.5.4).

A 307 or 308 makes the browser re-POST the same body — the user's password — to the next
location, which may be the client. Every POSTed form of the AS is answered with 303.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.security.conftest import Lab
from tests.web.conftest import PASSWORD, forms

pytestmark = pytest.mark.anyio


async def test_a14_login_post_answers_303(lab: Lab) -> None:
    start = await lab.authz("conf")
    form = forms(start.text)[0]
    response = await lab.server.submit(form, username="alice", password=PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/authorize?")


async def test_a14_consent_post_answers_303(lab: Lab) -> None:
    await lab.sign_in()
    page = await lab.authz("conf")
    for decision in ("deny", "approve"):
        response = await lab.server.submit(forms(page.text)[0], ("decision", decision))
        assert response.status_code == 303, decision


async def test_a14_authorize_post_and_logout_post_answer_303(lab: Lab) -> None:
    await lab.code("conf")  # signed in, consent remembered
    posted = await lab.server.post_form("/authorize", list(lab.authorize_params("conf").items()))
    assert posted.status_code == 303
    logout = await lab.server.submit(forms((await lab.http.get("/logout")).text)[0])
    assert logout.status_code == 303


async def test_a14_no_response_of_the_flow_is_307_or_308(lab: Lab) -> None:
    await lab.sign_in()
    seen = [
        await lab.redirect("conf"),
        await lab.http.get("/login?" + urlencode({"return_to": "/authorize?x=1"})),
        await lab.authz("conf", redirect_uri="https://evil.example/cb"),
    ]
    assert not [r for r in seen if r.status_code in (307, 308)]
