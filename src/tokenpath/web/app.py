"""The authorization server as an ASGI app: ``create_app(settings)`` and its route table.

There is no module-level state: each call builds its own runtime, so tests run many apps side
by side. When no :class:`~tokenpath.core.context.Context` is passed, the app's lifespan opens
the database named by the settings and closes it on shutdown.

``middleware`` wraps the whole app *outside* the security headers, so a traffic recorder (the
flow lab) sees exactly what the browser sees. It is the one supported hook for that purpose.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from functools import partial

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from tokenpath.core.context import Context
from tokenpath.core.token_claims import ClaimsHook
from tokenpath.runtime import build_context, load_settings, start_clean_up, start_pool_gauge
from tokenpath.settings import Settings
from tokenpath.web.api import ApiEndpoints
from tokenpath.web.client_address import parse_networks
from tokenpath.web.endpoints import Endpoints, Runtime, oauth_error_for
from tokenpath.web.registration import RegistrationEndpoints
from tokenpath.web.render import STATIC, Pages, json_error
from tokenpath.web.request_context import RequestContextMiddleware
from tokenpath.web.security import SECURITY_HEADERS, CookieNames, SecurityHeadersMiddleware

__all__ = ["JSON_PATHS", "build_context", "create_app", "create_app_from_env"]

JSON_PATHS = frozenset(
    {
        "/token",
        "/par",
        "/revoke",
        "/introspect",
        "/revocations",
        "/userinfo",
        "/jwks",
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
        "/register",
    }
)
"""Endpoints whose every answer, errors included, is an OAuth JSON document."""
JSON_PREFIXES = ("/register/",)
"""Path prefixes of such endpoints (RFC 7592 client configuration URIs)."""


Handler = Callable[[Request], Awaitable[Response]]


def _by_method(handlers: Mapping[str, Handler]) -> Handler:
    """One handler per path, so a 405 lists every allowed method in ``Allow``."""

    async def dispatch(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await handlers[method](request)

    return dispatch


def _routes(e: Endpoints, a: ApiEndpoints, r: RegistrationEndpoints) -> list[BaseRoute]:
    def route(path: str, **handlers: Handler) -> Route:
        return Route(path, _by_method(handlers), methods=list(handlers))

    userinfo_preflight = partial(a.preflight, methods="GET, POST")
    return [
        route("/", GET=e.home),
        route("/authorize", GET=e.authorize, POST=e.authorize),
        route("/login", GET=e.login_page, POST=e.login),
        route("/consent", POST=e.consent),
        route("/logout", GET=e.logout_page, POST=e.logout_page),
        route("/logout/confirm", POST=e.logout),
        route("/logout/done", GET=e.logged_out),
        route("/token", POST=a.token, OPTIONS=a.preflight),
        route("/par", POST=a.par, OPTIONS=a.preflight),
        route("/revoke", POST=a.revoke, OPTIONS=a.preflight),
        route("/introspect", POST=a.introspect),
        route("/revocations", GET=a.revocations),
        route("/userinfo", GET=a.userinfo, POST=a.userinfo, OPTIONS=userinfo_preflight),
        route("/jwks", GET=a.jwks),
        route("/.well-known/oauth-authorization-server", GET=a.metadata),
        route("/.well-known/openid-configuration", GET=a.openid_configuration),
        route("/register", POST=r.register),
        route(
            "/register/{client_id}",
            GET=r.configuration,
            PUT=r.configuration,
            DELETE=r.configuration,
        ),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


def create_app(
    settings: Settings,
    *,
    ctx: Context | None = None,
    middleware: Sequence[Middleware] = (),
    access_token_claims: ClaimsHook | None = None,
) -> Starlette:
    """The authorization server; ``middleware`` runs outermost (see the module docstring);
    ``access_token_claims`` adds claims to access tokens (``core/token_claims.py``; else the
    ``access_token_claims`` setting names one; a ``ctx`` passed in brings its own)."""
    pages = Pages()
    runtime = Runtime(
        settings=settings,
        pages=pages,
        cookies=CookieNames(secure=settings.secure_cookies),
        ctx=ctx,
        cors_origins=frozenset(settings.cors_origins),
    )
    endpoints = Endpoints(runtime)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        settings.log_startup_warnings()
        if runtime.ctx is not None:
            try:
                yield
            finally:
                await runtime.backchannel.aclose()
            return
        from tokenpath.storage.sql import open_database

        database = await open_database(settings.database_url)
        runtime.ctx = build_context(
            settings, database.stores, access_token_claims=access_token_claims
        )
        cleanup = start_clean_up(database.executor, settings)
        pool_gauge = start_pool_gauge(database.executor)
        try:
            yield
        finally:
            for task in (cleanup, pool_gauge):
                if task is not None:
                    task.cancel()
                    with suppress(asyncio.CancelledError):
                        await task
            await runtime.backchannel.aclose()
            runtime.ctx = None
            await database.close()

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        headers = dict(exc.headers or {})
        if "Allow" in headers:  # Starlette builds it from a set; make it stable
            headers["Allow"] = ", ".join(sorted(m.strip() for m in headers["Allow"].split(",")))
        if _is_json(request.url.path):
            detail = exc.detail
            if exc.status_code == 405:
                detail = f"method {request.method} is not allowed; use {headers.get('Allow', '')}"
            error = oauth_error_for(exc.status_code, detail)
            return json_error(error, status=exc.status_code, headers=headers)
        response = pages.problem(exc.status_code, exc.detail, _PROBLEMS.get(exc.status_code, ""))
        response.headers.update(headers)
        return response

    async def crash(request: Request, exc: Exception) -> Response:
        """Last resort: an OAuth-shaped answer with the security headers, no traceback.

        Starlette re-raises the exception afterwards, so the server logs it (path only: the
        log line names no query string).
        """
        headers = dict(SECURITY_HEADERS)
        if _is_json(request.url.path):
            return json_error(oauth_error_for(500, "internal error"), headers=headers)
        response = pages.problem(500, "Server error", _PROBLEMS[500])
        response.headers.update(headers)
        return response

    routes = _routes(endpoints, ApiEndpoints(runtime), RegistrationEndpoints(runtime))
    trusted = parse_networks(settings.trusted_proxies)
    app = Starlette(
        routes=routes,
        middleware=[
            *middleware,
            Middleware(RequestContextMiddleware, routes=routes, trusted=trusted),
            Middleware(SecurityHeadersMiddleware, hsts=settings.secure_cookies),
        ],
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: crash},
    )
    app.state.backchannel = runtime.backchannel  # tests wait for logout deliveries with it
    return app


def _is_json(path: str) -> bool:
    return path in JSON_PATHS or path.startswith(JSON_PREFIXES)


_PROBLEMS = {
    404: "There is no page at this address.",
    405: "This address does not accept that HTTP method.",
    500: "Something went wrong on the server. The error has been logged.",
}


def create_app_from_env() -> Starlette:
    """Factory for ``uvicorn --factory`` and multi-worker ``serve``: settings from the env (and
    the TOML file it names); logging set up as they say."""
    return create_app(load_settings())
