"""The lab's recorder: an ASGI middleware on every demo server, and a log handler beside it.

While a run is active, each server wrapped in :class:`RecordingMiddleware` adds one
:class:`~tokenpath.lab.recording.Exchange` per HTTP request to it (method, URL, the headers of
:data:`~tokenpath.lab.recording.RECORDED_HEADERS`, the request body and, for the token endpoint,
the response body), and :class:`RunLogHandler` adds every log record a server writes while it
handles a request of the run. Outside a run nothing is kept.

Invariants: at most one run is active (the lab runs flows one at a time, so "during the run" is
the tag); the middleware never changes a request or a response; a log record is tagged with
the server whose request was being handled (a context variable set around the app call).
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tokenpath.lab.recording import RECORDED_HEADERS, Exchange, LogLine, Run

__all__ = ["Recorder", "RecordingMiddleware", "RunLogHandler"]

MAX_BODY = 64 * 1024
"""Bodies are kept up to this size (a token request or response is far smaller)."""

_serving: contextvars.ContextVar[str | None] = contextvars.ContextVar("lab_serving", default=None)


class Recorder:
    """Holds the active run; the middleware and the log handler append to it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._run: Run | None = None
        self._in_flight: list[Exchange] = []

    @contextmanager
    def recording(self, run: Run) -> Iterator[Run]:
        with self._lock:
            if self._run is not None:
                raise RuntimeError("a lab run is already being recorded")
            self._run = run
            self._in_flight = []
        try:
            yield run
        finally:
            with self._lock:
                self._run = None
            run.finished = time.time()

    @property
    def active(self) -> Run | None:
        return self._run

    def new_exchange(self, server: str, scope: Scope) -> Exchange | None:
        if scope["path"] in BACKGROUND_PATHS:
            return None  # the demo API's own polling, not a hop of any flow
        with self._lock:
            run = self._run
            if run is None:
                return None
            query = scope.get("query_string", b"").decode("latin-1")
            path = scope.get("raw_path") or scope["path"].encode()
            target = path.decode("latin-1") + (f"?{query}" if query else "")
            exchange = Exchange(
                hop=len(run.exchanges) + 1,
                at=time.time(),
                server=server,
                method=scope["method"],
                url=target,
                request_headers=_kept(scope.get("headers", [])),
            )
            if exchange.from_browser:
                exchange.caller = "browser"
            else:
                busy = [e.server for e in self._in_flight if e.server != server]
                exchange.caller = busy[-1] if busy else ""
            run.exchanges.append(exchange)
            self._in_flight.append(exchange)
            return exchange

    def done(self, exchange: Exchange) -> None:
        with self._lock:
            if exchange in self._in_flight:
                self._in_flight.remove(exchange)

    def log(self, record: logging.LogRecord) -> None:
        server = _serving.get()
        run = self._run
        if server is None or run is None:
            return
        line = LogLine(
            at=record.created,
            server=server,
            logger=record.name,
            level=record.levelname,
            message=record.getMessage(),
        )
        with self._lock:
            run.logs.append(line)

    def middleware(self, server: str) -> list[Middleware]:
        """The ``middleware=`` value for a demo app factory."""
        return [Middleware(RecordingMiddleware, recorder=self, server=server)]


def _kept(headers: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [
        (k.decode("latin-1").lower(), v.decode("latin-1"))
        for k, v in headers
        if k.decode("latin-1").lower() in RECORDED_HEADERS
    ]


BACKGROUND_PATHS = frozenset({"/revocations"})
"""Requests a demo server makes on its own schedule (the demo API reads the revocation feed
every second): they belong to no run, so no run records them."""


def _is_token_endpoint(exchange: Exchange) -> bool:
    return exchange.method == "POST" and exchange.url.split("?")[0].endswith("/token")


class RecordingMiddleware:
    """Pure ASGI: records the exchange into the active run, if there is one."""

    def __init__(self, app: ASGIApp, *, recorder: Recorder, server: str) -> None:
        self.app = app
        self.recorder = recorder
        self.server = server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = self.recorder.new_exchange(self.server, scope)
        if exchange is None:
            await self.app(scope, receive, send)
            return
        keep_response = _is_token_endpoint(exchange)
        body = bytearray()
        answer = bytearray()

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(body) < MAX_BODY:
                body.extend(message.get("body", b""))
                exchange.request_body = body.decode("latin-1")
            return message

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
                exchange.answered = time.time()
                exchange.response_headers = _kept(message.get("headers", []))
            elif (
                message["type"] == "http.response.body" and keep_response and len(answer) < MAX_BODY
            ):
                answer.extend(message.get("body", b""))
                exchange.response_body = answer.decode("utf-8", "replace")
            await send(message)

        token = _serving.set(self.server)
        try:
            await self.app(scope, recording_receive, recording_send)
        finally:
            _serving.reset(token)
            self.recorder.done(exchange)


class RunLogHandler(logging.Handler):
    """Hands every log record to the recorder, which keeps those written during a run."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__(level=logging.DEBUG)
        self.recorder = recorder

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.recorder.log(record)
        except Exception:  # a log handler must never break the request it logs
            self.handleError(record)
