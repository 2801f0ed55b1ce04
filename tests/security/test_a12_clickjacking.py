"""Catalog A12: clickjacking of the AS's pages (RFC 9700 §4.16; RFC 6819 §4.4.1.9).

Every page a user can click on — login, consent, error, sign-out, the form_post relay — forbids
framing twice: CSP ``frame-ancestors 'none'`` for current browsers and ``X-Frame-Options: DENY``
for old ones. There is no device-verification page yet.
"""

from __future__ import annotations

import pytest

from tests.security.conftest import Lab
from tests.security.test_a08_leakage import as_pages

pytestmark = pytest.mark.anyio


async def test_a12_every_page_forbids_framing(lab: Lab) -> None:
    pages = await as_pages(lab)
    assert {"login", "login-prompt", "consent", "error", "logout", "form-post"} <= set(pages)
    for name, page in pages.items():
        directives = [d.strip() for d in page.headers["content-security-policy"].split(";")]
        assert "frame-ancestors 'none'" in directives, name
        assert page.headers["x-frame-options"] == "DENY", name


async def test_a12_redirects_and_json_forbid_framing_too(lab: Lab) -> None:
    await lab.sign_in()
    responses = [
        await lab.redirect("conf"),
        await lab.http.get("/.well-known/oauth-authorization-server"),
        await lab.token({"grant_type": "nope"}, client="conf"),
    ]
    for response in responses:
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
