"""The demo protected API: a few endpoints guarded by :mod:`tokenpath.resource.middleware`.

It shows bearer semantics plainly: ``/api/me`` answers anyone presenting a valid token, whoever
they are and wherever they call from — the token is the only credential (RFC 6750 §1.2). Notes
live in process memory, keyed by ``sub``: demo data, not a storage design.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tokenpath.resource.middleware import BearerAuthMiddleware, requires_scope
from tokenpath.resource.tokens import AccessToken, TokenValidator

__all__ = ["create_demo_api"]

MAX_NOTE = 500
MAX_NOTES = 50


def _token(request: Request) -> AccessToken:
    token: AccessToken = request.state.access_token
    return token


def create_demo_api(
    validator: TokenValidator,
    *,
    cors_origins: Sequence[str] = (),
    realm: str = "tokenpath-demo-api",
    middleware: Sequence[Middleware] = (),
) -> Starlette:
    notes: dict[str, list[dict[str, Any]]] = {}

    def notes_of(subject: str) -> list[dict[str, Any]]:
        return notes.setdefault(subject, [{"id": 1, "text": "Welcome! This note is yours alone."}])

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @requires_scope()
    async def me(request: Request) -> Response:
        token = _token(request)
        return JSONResponse(
            {
                "sub": token.subject,
                "client_id": token.client_id,
                "scope": " ".join(sorted(token.scopes)),
                "exp": token.expires_at,
                "grant_type": token.claims.get("gty"),
                "bearer": "Anyone holding this token can make this call until it expires.",
            }
        )

    @requires_scope("notes:read")
    async def list_notes(request: Request) -> Response:
        return JSONResponse({"notes": notes_of(_token(request).subject)})

    @requires_scope("notes:write")
    async def add_note(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str) or not 0 < len(text) <= MAX_NOTE:
            return JSONResponse(
                {"error": "invalid_request", "error_description": f"text: 1-{MAX_NOTE} characters"},
                status_code=400,
            )
        mine = notes_of(_token(request).subject)
        if len(mine) >= MAX_NOTES:
            mine.pop(0)
        note = {"id": max((n["id"] for n in mine), default=0) + 1, "text": text}
        mine.append(note)
        return JSONResponse(note, status_code=201)

    async def notes_endpoint(request: Request) -> Response:
        return await (add_note if request.method == "POST" else list_notes)(request)

    stack = [
        *middleware,
        Middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        ),
        Middleware(BearerAuthMiddleware, validator=validator, realm=realm),
    ]
    return Starlette(
        routes=[
            Route("/api/health", health),
            Route("/api/me", me),
            Route("/api/notes", notes_endpoint, methods=["GET", "POST"]),
        ],
        middleware=stack,
    )
