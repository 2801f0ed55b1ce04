"""Delivering logout tokens to a real loopback receiver: retries, timeouts, no redirects."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.support.receiver import HANG, REDIRECT, receiver
from tests.support.servers import free_port
from tokenpath.core.events import EventName, ListEventSink
from tokenpath.core.logout import LogoutDelivery
from tokenpath.web.backchannel import ATTEMPTS, TIMEOUT, BackchannelSender

pytestmark = pytest.mark.anyio


def delivery(uri: str) -> LogoutDelivery:
    return LogoutDelivery(client_id="app-1", uri=uri, logout_token="header.claims.signature")


def quick(**options: float) -> BackchannelSender:
    return BackchannelSender(backoff=(0.0,), **options)  # type: ignore[arg-type]


def test_the_bounds_are_those_promised() -> None:
    assert TIMEOUT == 2.0 and ATTEMPTS == 3


async def test_a_token_is_posted_as_a_form_once(caplog: pytest.LogCaptureFixture) -> None:
    events, sender = ListEventSink(), quick()
    caplog.set_level(logging.INFO, "tokenpath.backchannel")
    with receiver() as target:
        assert await sender.deliver(delivery(target.url), events)
    await sender.aclose()
    assert target.posts == [{"logout_token": "header.claims.signature"}]
    assert target.content_types == ["application/x-www-form-urlencoded"]
    assert events.events == []
    assert "delivered" in caplog.text and "header.claims" not in caplog.text


async def test_failures_are_retried_until_one_succeeds(caplog: pytest.LogCaptureFixture) -> None:
    events, sender = ListEventSink(), quick()
    with receiver([500, 503]) as target:
        assert await sender.deliver(delivery(target.url), events)
    await sender.aclose()
    assert len(target.posts) == 3 and events.events == []
    assert caplog.text.count("failed (attempt") == 2


@pytest.mark.parametrize("status", [400, 500, REDIRECT])
async def test_three_failures_are_a_security_event(status: int) -> None:
    events, sender = ListEventSink(), quick()
    with receiver([status] * 5) as target:
        assert not await sender.deliver(delivery(target.url), events)
    await sender.aclose()
    assert len(target.posts) == ATTEMPTS  # a redirect is not followed: no fourth POST
    (event,) = events.named(EventName.BACKCHANNEL_LOGOUT_FAILED)
    assert event.client_id == "app-1" and f"HTTP {status}" in event.detail
    assert "header.claims" not in str(event.fields())


async def test_a_receiver_that_hangs_times_out_and_is_retried() -> None:
    events, sender = ListEventSink(), quick(timeout=0.2)
    with receiver([HANG, HANG]) as target:
        assert await sender.deliver(delivery(target.url), events)
    await sender.aclose()
    assert len(target.posts) == 3 and events.events == []


async def test_an_unreachable_client_is_a_security_event() -> None:
    events, sender = ListEventSink(), quick(timeout=0.5)
    closed = f"http://127.0.0.1:{free_port()}/backchannel"  # reserved, never listening
    assert not await sender.deliver(delivery(closed), events)
    await sender.aclose()
    (event,) = events.named(EventName.BACKCHANNEL_LOGOUT_FAILED)
    assert "request failed" in event.detail


async def test_proxy_settings_of_the_environment_are_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{free_port()}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    events, sender = ListEventSink(), quick(timeout=0.5)
    with receiver() as target:
        assert await sender.deliver(delivery(target.url), events)
    await sender.aclose()
    assert len(target.posts) == 1


async def test_submit_returns_before_the_delivery_is_done() -> None:
    events, sender = ListEventSink(), quick()
    with receiver([HANG]) as target:
        sender.submit([delivery(target.url)], events)
        await asyncio.to_thread(target.hanging.wait)  # the receiver holds the request...
        assert len(target.posts) == 1  # ...and we are already here
        target.release()
        await sender.idle()
    await sender.aclose()
    assert events.events == [] and len(target.posts) == 1


async def test_closing_cancels_what_is_still_running(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tokenpath.web.backchannel.DRAIN_SECONDS", 0.0)
    events, sender = ListEventSink(), quick(timeout=30)
    with receiver([HANG]) as target:
        sender.submit([delivery(target.url)], events)
        await asyncio.to_thread(target.hanging.wait)
        await sender.aclose()
    assert events.events == []
