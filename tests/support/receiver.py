"""A client's back-channel logout endpoint for tests: a real loopback server with a script.

Each POST is recorded; the answer is the next entry of ``script`` (a status code, or ``HANG``:
hold the request until :meth:`Receiver.release` or shutdown), then 200 once the script is spent.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from tests.support.servers import serve_asgi

__all__ = ["HANG", "Receiver", "receiver"]

HANG = -1
REDIRECT = 302


class Receiver:
    def __init__(self, script: list[int]) -> None:
        self.script = list(script)
        self.posts: list[dict[str, str]] = []
        self.content_types: list[str] = []
        self.hanging = threading.Event()
        """Set while a request is being held."""
        self._release = threading.Event()
        self.url = ""

    def release(self) -> None:
        self._release.set()

    async def endpoint(self, request: Request) -> Response:
        self.content_types.append(request.headers.get("content-type", ""))
        self.posts.append(dict(parse_qsl((await request.body()).decode())))
        status = self.script.pop(0) if self.script else 200
        if status == HANG:
            self.hanging.set()
            await asyncio.to_thread(self._release.wait)
            return Response(status_code=200)
        if status == REDIRECT:
            return RedirectResponse("/elsewhere", status_code=302)
        return Response(status_code=status)

    @property
    def tokens(self) -> list[str]:
        return [post["logout_token"] for post in self.posts]


@contextmanager
def receiver(script: list[int] | None = None) -> Iterator[Receiver]:
    target = Receiver(script or [])
    app = Starlette(
        routes=[
            Route("/backchannel", target.endpoint, methods=["POST"]),
            Route("/elsewhere", target.endpoint, methods=["POST", "GET"]),
        ]
    )
    with serve_asgi(app) as base:
        target.url = f"{base}/backchannel"
        try:
            yield target
        finally:
            target.release()
