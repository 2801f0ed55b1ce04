"""web/request_context.py: one access line per request, at the level it deserves."""

from __future__ import annotations

import logging

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tokenpath.web.request_context import RequestContextMiddleware

pytestmark = pytest.mark.anyio


def _app(status: int) -> RequestContextMiddleware:
    async def answer(request: object) -> PlainTextResponse:
        return PlainTextResponse("x", status_code=status)

    routes = [Route("/revocations", answer), Route("/token", answer, methods=["POST"])]
    return RequestContextMiddleware(Starlette(routes=routes), routes=routes, trusted=())


async def _levels(
    caplog: pytest.LogCaptureFixture, status: int, method: str, path: str
) -> list[int]:
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="tokenpath.access"):
        transport = httpx.ASGITransport(app=_app(status))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            await http.request(method, path)
    return [r.levelno for r in caplog.records if r.name == "tokenpath.access"]


async def test_feed_polls_are_debug_and_everything_else_info(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert await _levels(caplog, 200, "GET", "/revocations") == [logging.DEBUG]
    assert await _levels(caplog, 401, "GET", "/revocations") == [logging.INFO]  # a refusal shows
    assert await _levels(caplog, 200, "POST", "/token") == [logging.INFO]
