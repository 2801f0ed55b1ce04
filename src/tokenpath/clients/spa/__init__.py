"""The browser (JavaScript) demo app: implicit or code + PKCE, chosen on its page.

The server side only serves static files and a config document; every protocol step runs in the
browser, as it would for an app with no server of its own. Headers carry the lessons of
RFC 9700 §4.2 (``Referrer-Policy: no-referrer``) and a strict CSP (no inline script, no third
parties), so nothing on the page can ship the token elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from tokenpath.clients.headers import SecurityHeaders

__all__ = ["SpaConfig", "create_spa"]

STATIC = Path(__file__).parent / "static"


@dataclass(frozen=True, slots=True, kw_only=True)
class SpaConfig:
    issuer: str
    api_base: str
    redirect_uri: str
    implicit_client_id: str | None
    """A public client allowed ``response_type=token``; None hides the implicit mode."""
    pkce_client_id: str
    """A public client allowed ``response_type=code`` (PKCE required)."""
    scope: str = "openid notes:read"


def _csp(config: SpaConfig) -> str:
    connect = " ".join(sorted({"'self'", config.issuer, config.api_base}))
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        f"connect-src {connect}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


def create_spa(config: SpaConfig, *, middleware: Sequence[Middleware] = ()) -> Starlette:
    """The SPA's origin: ``/`` (the app, also the redirect URI), ``/config.json``, ``/static``."""

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    async def config_json(request: Request) -> Response:
        return JSONResponse(asdict(config))

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/config.json", config_json),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[*middleware, Middleware(SecurityHeaders, csp=_csp(config))],
    )
    return app
