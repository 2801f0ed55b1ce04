"""The admin HTTP API: the CLI's lifecycle commands over JSON, for automation.

Why a separate app: it belongs on the management listener (loopback by default), never on the
public port; ``create_admin_app(ctx)`` returns it for the server to mount at ``/admin``. Every
operation calls the same :mod:`tokenpath.core.lifecycle` function its CLI command calls, so the
rules live in one place; this module only authenticates, parses and renders.

* Authentication: ``Authorization: Bearer <token>`` with a token from ``tokenpath admin token
  create``; anything else is 401 with ``WWW-Authenticate`` (RFC 6750 §3). Only the OpenAPI
  document (``GET /openapi.json``) is public: it holds no data.
* Errors are JSON ``{"error", "error_description"}``: 400 (not JSON, too large: 413), 401, 404,
  405, 409, 422 (``core/lifecycle/errors.py``). A path parameter that cannot name anything
  (over 255 characters, a NUL) is 404 without a lookup.
* Extension point: each resource is a :class:`Section` of :class:`Operation` rows; routes and
  the OpenAPI document are both derived from :data:`SECTIONS` (``admin_operations.py``), so a
  new resource (the APIs of RFC 8707 resource indicators, say) is one more section.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from tokenpath.core.context import Context
from tokenpath.core.lifecycle import LifecycleError, NotFound, authenticate_admin
from tokenpath.web.admin_openapi import document
from tokenpath.web.admin_operations import SECTIONS
from tokenpath.web.admin_schema import BODIES, Call, Operation, Reply, Section, validate

__all__ = [
    "Call",
    "Operation",
    "Reply",
    "Section",
    "create_admin_app",
    "mount_at",
    "openapi_document",
]

MAX_BODY = 64 * 1024
MAX_PATH_PARAM = 255
_log = logging.getLogger("tokenpath.admin")


def _error(status: int, code: str, description: str, **headers: str) -> JSONResponse:
    body = {"error": code, "error_description": description}
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store", **headers})


class _BadRequest(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


async def _body(request: Request, operation: Operation) -> dict[str, Any]:
    if operation.body is None:
        return {}
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise _BadRequest(413, f"the body is larger than {MAX_BODY} bytes")
    if not raw.strip() and not operation.body_required:
        return {}
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _BadRequest(400, "the body is not JSON") from None
    return validate(parsed, BODIES[operation.body])


def _path(request: Request) -> dict[str, str]:
    params = {k: str(v) for k, v in request.path_params.items()}
    for value in params.values():
        if len(value) > MAX_PATH_PARAM or "\x00" in value:
            raise NotFound("no such thing")
    return params


def _endpoint(operation: Operation, ctx: Context) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or await authenticate_admin(ctx, presented.strip()) is None:
            return _error(401, "unauthorized", "an admin token is required",
                          **{"WWW-Authenticate": 'Bearer realm="tokenpath-admin"'})  # fmt: skip
        try:
            call = Call(ctx, _path(request), dict(request.query_params), {})
            call = Call(ctx, call.path, call.query, await _body(request, operation))
            reply = await operation.handler(call)
        except LifecycleError as error:
            return _error(error.status, error.code, error.description)
        except _BadRequest as error:
            return _error(error.status, "invalid_request", error.description)
        if reply.body is None:
            return Response(status_code=reply.status, headers={"Cache-Control": "no-store"})
        return JSONResponse(reply.body, status_code=reply.status,
                            headers={"Cache-Control": "no-store"})  # fmt: skip

    return endpoint


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 500:
        _log.error("admin API failure", exc_info=exc)
    code = {404: "not_found", 405: "method_not_allowed"}.get(status, "server_error")
    return _error(status, code, "no such operation" if status < 500 else "internal error")


def create_admin_app(ctx: Context, sections: Sequence[Section] | None = None) -> ASGIApp:
    """The admin API over ``ctx``; mount it at ``/admin`` on the management listener."""
    chosen = SECTIONS if sections is None else sections
    routes = [
        Route(op.path, _endpoint(op, ctx), methods=[op.method])
        for section in chosen
        for op in section.operations
    ]
    document = openapi_document(chosen)

    async def openapi(request: Request) -> Response:
        root = request.scope.get("root_path", "")
        return JSONResponse({**document, "servers": [{"url": root or "/"}]})

    routes.append(Route("/openapi.json", openapi, methods=["GET"]))
    return Starlette(routes=routes, exception_handlers={HTTPException: _http_error,
                                                        Exception: _http_error})  # fmt: skip


def openapi_document(sections: Sequence[Section]) -> dict[str, Any]:
    """OpenAPI 3.1 for ``sections``: paths, bodies (``admin_schema``), errors, Bearer auth."""
    return document(sections)


def mount_at(prefix: str, app: ASGIApp, fallback: ASGIApp) -> ASGIApp:
    """``app`` under ``prefix`` (e.g. ``/admin``), everything else to ``fallback``.

    Why not Starlette's ``Mount``: its pattern does not match a path with an encoded newline,
    so such a request would get the outer app's plain-text 404 instead of this API's JSON one.
    """

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == prefix or path.startswith(prefix + "/")):
            root = scope.get("root_path", "") + prefix
            await app(
                {**scope, "path": path[len(prefix) :] or "/", "root_path": root}, receive, send
            )
            return
        await fallback(scope, receive, send)

    return route
