"""The management listener: health, readiness and metrics, on a port of their own.

``serve --management-port N`` (``TOKENPATH_MANAGEMENT_PORT``) runs this app beside the
authorization server, on ``TOKENPATH_MANAGEMENT_HOST`` (loopback by default) and never on the
public port, so a load balancer, Kubernetes or Prometheus can ask without the questions or the
answers crossing the public listener:

* ``GET /healthz``: 200 while the process runs (liveness);
* ``GET /readyz``: 200 when the database answers, its schema is at this code's newest migration
  and a signing key is active; otherwise 503 with ``{"status": "unavailable", "reason": ...}``
  (readiness: take the instance out of rotation, do not restart it);
* ``GET /metrics``: Prometheus text (``tokenpath.observability.metrics``), every worker's figures
  added up under ``--workers``, plus the signing keys' ages read from the database.

More routes (an admin API) are mounted with ``routes`` or ``apps``: an app factory in ``apps`` is
given this listener's own :class:`~tokenpath.core.context.Context` on first use.

It runs in a thread of the serving process (the supervisor under ``--workers``) with its own
event loop and its own database connections, so a busy or stuck public listener does not stop
it from answering.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from tokenpath.core.context import Context
from tokenpath.core.records import SigningKey
from tokenpath.core.signing import KEY_PUBLISH_AHEAD
from tokenpath.observability import metrics
from tokenpath.runtime import build_context, uvicorn_options
from tokenpath.settings import Settings
from tokenpath.storage.sql import Database, open_database
from tokenpath.storage.sql.health import schema_problem

__all__ = ["CHECK_TIMEOUT", "ManagementServer", "create_management_app"]

log = logging.getLogger("tokenpath.management")

CHECK_TIMEOUT = 5.0
"""Seconds one readiness check may take before it counts as failed."""

AppFactory = Callable[[Context], ASGIApp]


class _State:
    database: Database | None = None
    ctx: Context | None = None


class _LazyApp:
    """An app built from the listener's Context the first time it is called."""

    def __init__(self, factory: AppFactory, state: _State) -> None:
        self._factory = factory
        self._state = state
        self._app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is None:
            if self._state.ctx is None:
                await JSONResponse({"error": "starting"}, status_code=503)(scope, receive, send)
                return
            self._app = self._factory(self._state.ctx)
        await self._app(scope, receive, send)


async def _key_problem(database: Database) -> tuple[str | None, list[SigningKey]]:
    keys = list(await database.stores.keys.list_active())
    if not keys:
        return "no active signing key (the server creates one at start; see tokenpath keys)", []
    return None, keys


async def _readiness(database: Database | None) -> str | None:
    if database is None:
        return "starting"
    try:
        problem = await asyncio.wait_for(schema_problem(database.engine), CHECK_TIMEOUT)
        if problem is None:
            problem, _ = await asyncio.wait_for(_key_problem(database), CHECK_TIMEOUT)
    except TimeoutError:
        return f"database did not answer within {CHECK_TIMEOUT:g} s"
    except Exception as error:  # the reason is the answer; the probe itself must not fail
        return (
            f"database unreachable: {str(error).splitlines()[0][:200] if str(error) else error!r}"
        )
    return problem


async def _key_ages(database: Database | None) -> list[tuple[str, str, int]]:
    if database is None:
        return []
    try:
        _, keys = await asyncio.wait_for(_key_problem(database), CHECK_TIMEOUT)
    except Exception:  # no ages then: /readyz says why
        return []
    if not keys:
        return []
    now = int(time.time())
    # the Signer's rule: the newest key published long enough signs; the oldest while none is
    newest_first = sorted(keys, key=lambda k: k.created_at, reverse=True)
    ripe = [k for k in newest_first if k.created_at <= now - KEY_PUBLISH_AHEAD]
    signing = (ripe[0] if ripe else newest_first[-1]).kid
    return [
        (k.kid, "signing" if k.kid == signing else "published", now - k.created_at) for k in keys
    ]


def create_management_app(
    settings: Settings,
    *,
    routes: Sequence[BaseRoute] = (),
    apps: Mapping[str, AppFactory] | None = None,
) -> Starlette:
    """The management app; ``routes`` and ``apps`` (path prefix -> factory) are added to it."""
    state = _State()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state.database = await open_database(settings.database_url, pool_size=2)
        state.ctx = build_context(settings, state.database.stores)
        try:
            yield
        finally:
            database, state.database, state.ctx = state.database, None, None
            await database.close()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        reason = await _readiness(state.database)
        if reason is None:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)

    async def scrape(request: Request) -> Response:
        ages = metrics.KeyAges(await _key_ages(state.database))
        body = metrics.render(metrics.registry(), ages)
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    mounted = [Mount(path, _LazyApp(factory, state)) for path, factory in (apps or {}).items()]
    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", scrape),
            *routes,
            *mounted,
        ],
        lifespan=lifespan,
    )


class ManagementServer:
    """The management app under uvicorn in a daemon thread, on a socket bound beforehand."""

    def __init__(self, app: ASGIApp, sock: socket.socket) -> None:
        options = {**uvicorn_options(), "lifespan": "on", "ws": "none"}
        self._server = uvicorn.Server(uvicorn.Config(app, **options))
        self._sock = sock
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name="tokenpath-management",
            daemon=True,
        )

    def start(self, timeout: float = 30.0) -> None:
        """Start and wait until it answers; a RuntimeError if it cannot start."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the management listener did not start (see the log above)")
            time.sleep(0.02)
        host, port = self._sock.getsockname()[:2]
        log.info("management listener on http://%s:%s (/healthz /readyz /metrics)", host, port)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._sock.close()
