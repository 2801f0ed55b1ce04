"""Per request: an id carried into every log record, one access-log line, and the metrics.

* The request id comes from ``X-Request-ID`` only when the peer is one of
  ``TOKENPATH_TRUSTED_PROXIES`` (a proxy that sets it for each request) and the value is a short
  token; otherwise it is generated. It is returned in the response's ``X-Request-ID`` and set in
  the logging context for every record written while the request is served.
* The access log names the method, the path *without* its query string (a query can carry an
  ``id_token_hint`` or other tokens), the status and the time taken: uvicorn's own access log,
  which prints the query, stays off.
* Metrics label a request by its route template (``/register/{client_id}``), never its raw path.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time
import uuid
from collections.abc import Sequence

from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tokenpath.observability import logs, metrics
from tokenpath.web.client_address import Network

__all__ = ["RequestContextMiddleware", "endpoint_of"]

access_log = logging.getLogger("tokenpath.access")
ROUTINE_PATHS = frozenset({"/revocations"})
"""Polled every second by each JWT-validating API (the revocation feed): a successful poll is
logged at DEBUG, so the access log shows the requests people and clients make, not a heartbeat."""

_TOKEN = re.compile(r"[A-Za-z0-9._:-]{1,128}")
UNMATCHED = "unmatched"


def endpoint_of(routes: Sequence[BaseRoute], scope: Scope) -> str:
    """The route template ``scope`` matches (a mount's prefix for static files)."""
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return str(getattr(route, "path", UNMATCHED)) or UNMATCHED
    return UNMATCHED


class RequestContextMiddleware:
    def __init__(
        self, app: ASGIApp, *, routes: Sequence[BaseRoute], trusted: tuple[Network, ...]
    ) -> None:
        self.app = app
        self.routes = routes
        self.trusted = trusted

    def _request_id(self, scope: Scope) -> str:
        peer = scope.get("client")
        try:
            address = ipaddress.ip_address(peer[0]) if peer and self.trusted else None
        except ValueError:
            address = None
        if address is not None and any(address in network for network in self.trusted):
            given = Headers(scope=scope).get("x-request-id", "")
            if _TOKEN.fullmatch(given):
                return given
        return uuid.uuid4().hex

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self._request_id(scope)
        logs.bind_request_id(request_id)  # this request's task: every record carries it
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                location = headers.get("location")
                if location and status in (302, 303):
                    metrics.count_redirect(location)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        endpoint = endpoint_of(self.routes, scope)
        method = str(scope.get("method", ""))
        metrics.observe_request(endpoint, method, status, seconds)
        path = str(scope.get("path", ""))[:200]
        routine = path in ROUTINE_PATHS and status < 400
        access_log.log(
            logging.DEBUG if routine else logging.INFO,
            "%s %s %s %.1fms",
            method,
            path,
            status,
            seconds * 1000,
            extra={
                "access": {
                    "method": method,
                    "path": path,
                    "endpoint": endpoint,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                }
            },
        )
