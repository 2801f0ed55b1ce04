"""POST /login under attack: per-address limits, proxies, a busy hasher, single-use CSRF."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.core.test_login import BusyHasher
from tests.web.conftest import PASSWORD, Server, forms, serve
from tokenpath.core.login import ADDRESS_ATTEMPTS_PER_MINUTE
from tokenpath.storage.memory import memory_stores

pytestmark = pytest.mark.anyio


@pytest.fixture
async def proxied() -> AsyncIterator[Server]:
    """The app behind a trusted proxy at 127.0.0.1 (the ASGI test client's address)."""
    async for s in serve(memory_stores(), trusted_proxies=["127.0.0.1"]):
        yield s


async def attempt(server: Server, username: str, forwarded: str | None = None) -> httpx.Response:
    form = await server.form("/login")
    data = [(k, v) for k, v in form.fields if k in ("csrf", "return_to")]
    data += [("username", username), ("password", "wrong password")]
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return await server.post_form("/login", data, **headers)


async def spray(server: Server, forwarded: str | None = None) -> list[int]:
    """One wrong guess at each of many accounts: the per-account limits never bind."""
    statuses = []
    for n in range(ADDRESS_ATTEMPTS_PER_MINUTE + 1):
        await server.user(f"user{n}")
        statuses.append((await attempt(server, f"user{n}", forwarded)).status_code)
    return statuses


async def test_an_address_is_limited_across_accounts(server: Server) -> None:
    statuses = await spray(server)
    assert statuses == [400] * ADDRESS_ATTEMPTS_PER_MINUTE + [429]


async def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(server: Server) -> None:
    statuses = []
    for n in range(ADDRESS_ATTEMPTS_PER_MINUTE + 1):
        await server.user(f"user{n}")
        response = await attempt(server, f"user{n}", forwarded=f"203.0.113.{n}")
        statuses.append(response.status_code)
    assert statuses[-1] == 429  # a fresh claimed address each time did not help


async def test_behind_a_trusted_proxy_each_client_has_its_own_bucket(proxied: Server) -> None:
    statuses = await spray(proxied, forwarded="203.0.113.5")
    assert statuses[-1] == 429
    other = await attempt(proxied, "user0", forwarded="198.51.100.7")
    assert other.status_code == 400  # another client behind the same proxy is unaffected
    spoofed = await attempt(proxied, "user1", forwarded="198.51.100.8, 203.0.113.5")
    assert spoofed.status_code == 429  # prepending a made-up hop does not escape


async def test_a_full_hashing_queue_answers_503_with_retry_after() -> None:
    async for server in serve(memory_stores(), passwords=BusyHasher()):
        await server.user()
        busy = await attempt(server, "alice")
        assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
        assert "busy" in busy.text
        assert forms(busy.text)[0].action == "/login"  # the form again, to retry


async def test_the_sign_in_csrf_token_is_single_use(server: Server) -> None:
    await server.user()
    form = await server.form("/login")
    data = [(k, v) for k, v in form.fields if k in ("csrf", "return_to")]
    data += [("username", "alice"), ("password", "wrong password")]
    cookie = server.http.cookies["tp_csrf"]
    first = await server.post_form("/login", data)
    assert first.status_code == 400
    renewed = forms(first.text)[0].value("csrf")
    assert renewed != form.value("csrf") and server.http.cookies["tp_csrf"] == renewed
    # Replaying the old token with its old cookie (a script ignoring Set-Cookie) is refused.
    server.http.cookies.set("tp_csrf", cookie, domain="127.0.0.1")
    replay = await server.post_form("/login", data)
    assert replay.status_code == 403
    # The renewed form works, and success renews the token again.
    server.http.cookies.set("tp_csrf", renewed, domain="127.0.0.1")
    signed_in = await server.submit(forms(first.text)[0], username="alice", password=PASSWORD)
    assert signed_in.status_code == 303
    assert server.http.cookies["tp_csrf"] not in (cookie, renewed)
