"""Catalog A3 and A4 for the browser app (RFC 9700 §4.7.1, §4.4.2.1; RFC 9207).

The SPA's checks run in JavaScript, so they are exercised in Chromium: a response carrying a
``state`` this tab never sent, or the right ``state`` with a foreign ``iss``, is refused and no
token request follows.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.clients.webapp.conftest import Since
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.browser


def test_a03_spa_ignores_a_response_it_did_not_ask_for(stack: Stack, page: Any) -> None:
    since = Since(stack)
    forged = {"code": "forged-code", "state": "forged-state", "iss": stack.issuer}
    page.goto(f"{stack.spa}/?{urlencode(forged)}")
    page.wait_for_selector("#error:not([hidden])")
    assert "state does not match" in page.inner_text("#error")
    assert since.token_requests() == []


def test_a04_spa_aborts_on_a_foreign_iss(stack: Stack, page: Any) -> None:
    page.goto(stack.spa)
    page.click("#login-pkce")
    page.wait_for_url(f"{stack.issuer}/**")
    state = parse_qs(urlsplit(page.url).query)["state"][0]
    since = Since(stack)
    forged = {"code": "forged-code", "state": state, "iss": "http://127.0.0.1:1"}
    page.goto(f"{stack.spa}/?{urlencode(forged)}")
    page.wait_for_selector("#error:not([hidden])")
    assert "iss does not match" in page.inner_text("#error")
    assert since.token_requests() == []
