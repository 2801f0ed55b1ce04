"""Catalog A16 (RFC 9700 §4.11.2): a dynamic client's early errors wait behind an interstitial.

A client registered over HTTP is trusted only as far as its own word: before anyone has signed
in, an error found after its client id and redirect URI check out is shown at the AS with a
button, not sent to the redirect URI at once. Operator-registered clients keep the immediate
redirect; once the user has signed in, errors go straight back for every client.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.core.conftest import CB, Harness
from tokenpath.core.messages import ErrorPage, FormPost, Interstitial, Redirect
from tokenpath.core.records import Client, ClientType

pytestmark = pytest.mark.anyio


async def dynamic(h: Harness) -> Client:
    client, _ = await h.client(ClientType.CONFIDENTIAL, registration_access_token_hash="r" * 64)
    assert client.dynamic
    return client


def bad_scope(client: Client, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": CB,
        "scope": "admin",
        "state": "s1",
        **extra,
    }


async def test_an_early_error_of_a_dynamic_client_is_held(harness: Harness) -> None:
    client = await dynamic(harness)
    decision = await harness.authorize(None, **bad_scope(client))
    assert isinstance(decision, Interstitial)
    assert decision.host == "client.example" and decision.error.error == "invalid_scope"
    assert isinstance(decision.proceed, Redirect)
    sent = dict(parse_qsl(urlsplit(decision.proceed.location).query))
    assert sent == {
        "error": "invalid_scope",
        "error_description": "scope not allowed for this client: admin",
        "state": "s1",
        "iss": "https://as.example",
    }


async def test_form_post_errors_are_held_as_a_form(harness: Harness) -> None:
    client = await dynamic(harness)
    decision = await harness.authorize(None, **bad_scope(client, response_mode="form_post"))
    assert isinstance(decision, Interstitial) and isinstance(decision.proceed, FormPost)
    assert decision.proceed.action == CB and ("state", "s1") in decision.proceed.fields


async def test_signed_in_users_and_operator_clients_are_redirected_at_once(
    harness: Harness,
) -> None:
    client = await dynamic(harness)
    session = await harness.session()
    assert isinstance(await harness.authorize(session, **bad_scope(client)), Redirect)
    operator, _ = await harness.client()
    assert not operator.dynamic
    assert isinstance(await harness.authorize(None, **bad_scope(operator)), Redirect)


async def test_untrusted_errors_stay_error_pages(harness: Harness) -> None:
    client = await dynamic(harness)
    params = bad_scope(client, redirect_uri="https://evil.example/cb")
    assert isinstance(await harness.authorize(None, **params), ErrorPage)
