"""``RemoteKeySets`` against a real loopback HTTP server: cache, throttle, bounds, key filter."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest
from joserfc.jwk import ECKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.servers import serve_asgi
from tokenpath.core.clock import FixedClock
from tokenpath.storage.remote_key_sets import RemoteKeySets

pytestmark = pytest.mark.anyio

KEY = ECKey.generate_key("P-256", private=True, auto_kid=True)
ROTATED = ECKey.generate_key("P-256", private=True, auto_kid=True)
LIMIT = 64 * 1024


def key_set(*keys: ECKey, private: bool = False) -> dict[str, object]:
    return {"keys": [dict(k.as_dict(private=private)) for k in keys]}


@dataclass
class ClientHost:
    """The client's web server: what it publishes, and how often it was asked."""

    url: str = ""
    published: dict[str, object] = field(default_factory=lambda: key_set(KEY))
    hits: dict[str, int] = field(default_factory=dict)
    release: threading.Event = field(default_factory=threading.Event)

    def app(self) -> Starlette:
        async def counted(request: Request) -> None:
            self.hits[request.url.path] = self.hits.get(request.url.path, 0) + 1

        async def jwks(request: Request) -> Response:
            await counted(request)
            return JSONResponse(self.published)

        async def big(request: Request) -> Response:
            await counted(request)
            padding = "x" * LIMIT
            return JSONResponse({**key_set(KEY), "padding": padding})

        async def big_unannounced(request: Request) -> Response:
            """No Content-Length: the size is only known while reading."""
            await counted(request)

            async def body() -> AsyncIterator[bytes]:
                yield b'{"keys": [], "padding": "'
                for _ in range(LIMIT // 1024 + 1):
                    yield b"x" * 1024
                yield b'"}'

            return StreamingResponse(body(), media_type="application/json")

        async def slow(request: Request) -> Response:
            await counted(request)
            await asyncio.to_thread(self.release.wait)  # answers only when the test ends
            return JSONResponse(self.published)

        async def private(request: Request) -> Response:
            await counted(request)
            return JSONResponse(
                {"keys": [*key_set(ROTATED, private=True)["keys"], *key_set(KEY)["keys"]]}  # type: ignore[misc]
            )

        async def only_private(request: Request) -> Response:
            await counted(request)
            return JSONResponse(key_set(KEY, private=True))

        async def missing(request: Request) -> Response:
            await counted(request)
            return Response("no", status_code=404)

        async def moved(request: Request) -> Response:
            await counted(request)
            return RedirectResponse("/jwks.json")

        async def garbage(request: Request) -> Response:
            await counted(request)
            return Response(b"\xff not json", media_type="application/json")

        handlers = {
            "/jwks.json": jwks,
            "/big": big,
            "/big-unannounced": big_unannounced,
            "/slow": slow,
            "/private": private,
            "/only-private": only_private,
            "/missing": missing,
            "/moved": moved,
            "/garbage": garbage,
        }
        return Starlette(routes=[Route(path, handler) for path, handler in handlers.items()])


@pytest.fixture
def host() -> Iterator[ClientHost]:
    host = ClientHost()
    with serve_asgi(host.app()) as url:
        host.url = url
        try:
            yield host
        finally:
            host.release.set()  # before the server stops: it waits for open requests


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def source(clock: FixedClock) -> RemoteKeySets:
    return RemoteKeySets(clock, timeout=3.0)


def kids(text: str | None) -> list[str]:
    assert text is not None
    return [k["kid"] for k in json.loads(text)["keys"]]


async def test_a_set_is_cached_for_its_ttl(
    host: ClientHost, source: RemoteKeySets, clock: FixedClock
) -> None:
    uri = f"{host.url}/jwks.json"
    assert kids(await source.key_set(uri)) == [KEY.kid]
    host.published = key_set(ROTATED)
    clock.advance(299)
    assert kids(await source.key_set(uri)) == [KEY.kid]
    assert host.hits == {"/jwks.json": 1}
    clock.advance(1)
    assert kids(await source.key_set(uri)) == [ROTATED.kid]
    assert host.hits == {"/jwks.json": 2}


async def test_refresh_is_throttled_per_uri(
    host: ClientHost, source: RemoteKeySets, clock: FixedClock
) -> None:
    uri = f"{host.url}/jwks.json"
    await source.key_set(uri)
    host.published = key_set(KEY, ROTATED)
    for _ in range(5):  # unknown kids arriving in a burst
        assert kids(await source.key_set(uri, refresh=True)) == [KEY.kid]
    assert host.hits == {"/jwks.json": 1}
    clock.advance(30)
    assert kids(await source.key_set(uri, refresh=True)) == [KEY.kid, ROTATED.kid]
    assert host.hits == {"/jwks.json": 2}


async def test_concurrent_misses_share_one_fetch(host: ClientHost, source: RemoteKeySets) -> None:
    uri = f"{host.url}/jwks.json"
    answers = await asyncio.gather(*(source.key_set(uri) for _ in range(8)))
    assert {tuple(kids(a)) for a in answers} == {(KEY.kid,)}
    assert host.hits == {"/jwks.json": 1}


async def test_private_keys_are_dropped(host: ClientHost, source: RemoteKeySets) -> None:
    text = await source.key_set(f"{host.url}/private")
    assert kids(text) == [KEY.kid]
    assert text is not None and '"d"' not in text
    assert await source.key_set(f"{host.url}/only-private") is None


@pytest.mark.parametrize("path", ["/big", "/big-unannounced"])
async def test_an_oversized_document_is_refused(
    host: ClientHost, source: RemoteKeySets, path: str
) -> None:
    assert await source.key_set(f"{host.url}{path}") is None
    assert host.hits == {path: 1}


async def test_a_slow_server_times_out(host: ClientHost, clock: FixedClock) -> None:
    source = RemoteKeySets(clock, timeout=0.2)
    assert await source.key_set(f"{host.url}/slow") is None
    # one attempt at most (on a loaded machine the server may not even have seen it yet)
    assert host.hits.get("/slow", 0) <= 1 and set(host.hits) <= {"/slow"}


@pytest.mark.parametrize("path", ["/missing", "/moved", "/garbage"])
async def test_unusable_answers_are_none(
    host: ClientHost, source: RemoteKeySets, path: str
) -> None:
    assert await source.key_set(f"{host.url}{path}") is None
    assert host.hits == {path: 1}, "redirects are not followed"


async def test_an_unreachable_host_is_none(clock: FixedClock) -> None:
    from tests.support.servers import free_port

    source = RemoteKeySets(clock)
    assert await source.key_set(f"http://127.0.0.1:{free_port()}/jwks.json") is None


async def test_a_failed_refresh_keeps_the_fresh_set(
    host: ClientHost, source: RemoteKeySets, clock: FixedClock
) -> None:
    uri = f"{host.url}/jwks.json"
    await source.key_set(uri)
    host.published = {"keys": "broken"}
    clock.advance(30)
    assert kids(await source.key_set(uri, refresh=True)) == [KEY.kid]
    assert host.hits == {"/jwks.json": 2}


async def test_a_failing_uri_is_logged_once(
    host: ClientHost, source: RemoteKeySets, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    uri = f"{host.url}/missing"
    with caplog.at_level(logging.WARNING, logger="tokenpath.storage"):
        for _ in range(3):
            assert await source.key_set(uri) is None
            clock.advance(30)
    assert host.hits == {"/missing": 3}
    warnings = [r.getMessage() for r in caplog.records if r.name == "tokenpath.storage"]
    assert warnings == [f"jwks_uri {uri} unavailable: HTTP status 404"]
