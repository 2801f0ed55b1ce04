"""A notes API protected by tokenpath access tokens, in Starlette.

Run it with ``ISSUER=https://login.example API=https://notes.example python starlette_notes.py``.
"""

import os

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tokenpath.resource import BearerAuthMiddleware, JwtValidator, requires_scope


def create_app(issuer: str, api: str) -> Starlette:
    """``issuer``: the authorization server's URL; ``api``: this API's identifier (``aud``)."""
    validator = JwtValidator(issuer=issuer, audience=api)
    notes: dict[str, list[str]] = {}

    @requires_scope("notes:read")
    async def list_notes(request: Request) -> JSONResponse:
        subject = request.state.access_token.subject
        return JSONResponse({"sub": subject, "notes": notes.get(subject, [])})

    @requires_scope("notes:write")
    async def add_note(request: Request) -> JSONResponse:
        subject = request.state.access_token.subject
        text = str((await request.json()).get("text", ""))
        notes.setdefault(subject, []).append(text)
        return JSONResponse({"sub": subject, "text": text}, status_code=201)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/notes", list_notes, methods=["GET"]),
            Route("/notes", add_note, methods=["POST"]),
            Route("/health", health),
        ],
        middleware=[Middleware(BearerAuthMiddleware, validator=validator, realm="notes")],
    )


if __name__ == "__main__":
    uvicorn.run(create_app(os.environ["ISSUER"], os.environ["API"]), port=8000)
