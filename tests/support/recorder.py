"""An ASGI middleware that records every HTTP exchange a server sees (request line, headers, body).

Tests use it to prove where a token did *not* travel; it is the shape of the flow lab's recorder
hook (every demo app factory accepts ``middleware=``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Exchange", "Recorder", "RecorderMiddleware"]


@dataclass
class Exchange:
    server: str
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    status: int = 0
    response_headers: list[tuple[str, str]] = field(default_factory=list)

    def received(self) -> str:
        """Everything the server received (request line, headers, body), searchable."""
        lines = [f"{self.method} {self.target}", self.body.decode("latin-1")]
        lines += [f"{k}: {v}" for k, v in self.headers]
        return "\n".join(lines)

    def text(self) -> str:
        """What the server received plus the headers it sent back."""
        return "\n".join([self.received(), *(f"{k}: {v}" for k, v in self.response_headers)])


class Recorder:
    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()

    def add(self, exchange: Exchange) -> None:
        with self._lock:
            self.exchanges.append(exchange)

    def containing(self, needle: str) -> list[Exchange]:
        """Exchanges in which the server *received* ``needle``."""
        return [e for e in self.exchanges if needle in e.received()]


class RecorderMiddleware:
    def __init__(self, app: ASGIApp, *, recorder: Recorder, name: str) -> None:
        self.app = app
        self.recorder = recorder
        self.name = name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        target = scope.get("raw_path", scope["path"].encode()).decode("latin-1")
        exchange = Exchange(
            server=self.name,
            method=scope["method"],
            target=f"{target}?{query}" if query else target,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
        )
        self.recorder.add(exchange)

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                exchange.body += message.get("body", b"")
            return message

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
                exchange.response_headers = [
                    (k.decode("latin-1"), v.decode("latin-1"))
                    for k, v in message.get("headers", [])
                ]
            await send(message)

        await self.app(scope, recording_receive, recording_send)
