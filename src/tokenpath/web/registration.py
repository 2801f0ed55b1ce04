"""``/register`` and ``/register/{client_id}``: dynamic registration over HTTP (RFC 7591, 7592).

Thin like every handler (docs/architecture.md, "The web layer"): the body is read no further
than one byte past the limit the core enforces (``MAX_METADATA_BYTES``), so an oversized upload
is never buffered whole; the core parses, validates, decides and answers. What this module adds
is HTTP only: which core function a method maps to, and a 204 without a body.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tokenpath.core.client_metadata import MAX_METADATA_BYTES
from tokenpath.core.dynamic_registration import (
    RegistrationRequest,
    delete_registration,
    read_registration,
    register,
    update_registration,
)
from tokenpath.web.endpoints import Runtime
from tokenpath.web.render import json_reply

__all__ = ["RegistrationEndpoints"]

_BY_METHOD = {"GET": read_registration, "PUT": update_registration, "DELETE": delete_registration}


class RegistrationEndpoints:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    async def register(self, request: Request) -> Response:
        """RFC 7591 §3: ``POST /register``; open only if the operator allowed it."""
        reply = await register(
            await _message(request),
            ctx=self.rt.context(),
            open_registration=self.rt.settings.allow_open_registration,
        )
        return json_reply(reply)

    async def configuration(self, request: Request) -> Response:
        """RFC 7592 §2: GET reads, PUT replaces, DELETE removes the client's registration."""
        handler = _BY_METHOD["GET" if request.method == "HEAD" else request.method]
        client_id = str(request.path_params["client_id"])
        reply = await handler(client_id, await _message(request), ctx=self.rt.context())
        if reply.status == 204:
            return Response(status_code=204, headers=dict(reply.headers))
        return json_reply(reply)


async def _message(request: Request) -> RegistrationRequest:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_METADATA_BYTES:
            break
    return RegistrationRequest(
        body=body,
        content_type=request.headers.get("content-type"),
        authorization=request.headers.get("authorization"),
    )
