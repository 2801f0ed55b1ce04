"""The demo protected API: a few endpoints guarded by :mod:`tokenpath.resource.middleware`.

It shows bearer semantics plainly: ``/api/me`` answers anyone presenting a valid bearer token,
whoever they are and wherever they call from — the token is the only credential (RFC 6750
§1.2), which is why it must never leak. And it shows the fix: a DPoP-bound token (RFC 9449,
``cnf.jkt``) is accepted only as ``Authorization: DPoP`` with a fresh proof signed by its key;
the same token replayed alone, or with a proof by another key, is refused (401 and the
``WWW-Authenticate: DPoP`` challenge saying why).

* ``GET /api/health`` — unprotected;
* ``GET /api/me`` — any valid token: what the token says (subject, client, scopes, expiry);
* ``GET /api/notes`` — scope ``notes:read``: the caller's notes;
* ``POST /api/notes`` — scope ``notes:write``: add a note, JSON ``{"text": "..."}``.

Notes live in process memory, keyed by ``sub``, seeded with the same few notes for everyone:
demo data that vanishes on restart, not a storage design (bounded, so a caller cannot grow it
without limit). CORS is granted only to the exact configured origins (the browser app), for the
``Authorization`` and ``DPoP`` headers, without cookies; ``WWW-Authenticate`` and ``DPoP-Nonce``
are readable by the page. Nothing here logs a token.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tokenpath.resource.dpop import DpopOptions, bound_key
from tokenpath.resource.middleware import BearerAuthMiddleware, requires_scope
from tokenpath.resource.validation import AccessToken, TokenValidator

__all__ = ["create_demo_api"]

MAX_NOTE = 500
"""Characters in one note."""
MAX_NOTES = 50
"""Notes kept per subject; the oldest goes first."""
MAX_SUBJECTS = 10_000
"""Subjects with notes in memory; the least recently created goes first."""
MAX_BODY = 4096
SEED_NOTES = (
    "Welcome! This note is yours alone.",
    "Notes live in this API's memory and vanish when it restarts: demo data only.",
    "Reading notes needs scope notes:read; writing one needs notes:write.",
)
BEARER_NOTE = (
    "Anyone holding this token can call this API until it expires: it is a bearer token, "
    "so whoever presents it is trusted."
)
BOUND_NOTE = (
    "This token is bound to a key (DPoP): it works only with a fresh proof signed by that key, "
    "so a copy of the token alone is refused."
)
NO_STORE = {"Cache-Control": "no-store"}


def _token(request: Request) -> AccessToken:
    token: AccessToken = request.state.access_token
    return token


def _invalid(description: str, status: int = 400) -> Response:
    body = {"error": "invalid_request", "error_description": description}
    return JSONResponse(body, status_code=status, headers=NO_STORE)


def _check_origins(origins: Sequence[str]) -> list[str]:
    """Exact origins only (scheme://host[:port]): no wildcard, no ``null``, no path."""
    for origin in origins:
        parts = urlsplit(origin)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or "*" in origin
            or "@" in parts.netloc
            or f"{parts.scheme}://{parts.netloc}" != origin
        ):
            raise ValueError(f"not an exact origin: {origin!r}")
    return list(origins)


async def _read_text(request: Request) -> str | Response:
    """The ``text`` of a small JSON body, or the 4xx that explains what is wrong with it."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        return _invalid("send the note as application/json")
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return _invalid(f"the body is larger than {MAX_BODY} bytes", status=413)
    except ClientDisconnect:
        return _invalid("the request body was cut short")
    try:
        document: Any = json.loads(body)
    except ValueError:
        return _invalid("the body is not JSON")
    text = document.get("text") if isinstance(document, dict) else None
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_NOTE:
        return _invalid(f'send {{"text": "..."}} with 1 to {MAX_NOTE} characters')
    return text


def create_demo_api(
    validator: TokenValidator,
    *,
    cors_origins: Sequence[str] = (),
    realm: str = "tokenpath-demo-api",
    middleware: Sequence[Middleware] = (),
    dpop: DpopOptions | bool = True,
) -> Starlette:
    """The demo API; ``middleware`` runs outermost (the flow recorder wraps it in tests)."""
    origins = _check_origins(cors_origins)
    notes: dict[str, list[dict[str, Any]]] = {}

    def notes_of(subject: str) -> list[dict[str, Any]]:
        if subject not in notes:
            if len(notes) >= MAX_SUBJECTS:
                del notes[next(iter(notes))]
            notes[subject] = [{"id": i, "text": t} for i, t in enumerate(SEED_NOTES, start=1)]
        return notes[subject]

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @requires_scope()
    async def me(request: Request) -> Response:
        token = _token(request)
        jkt = bound_key(token.claims)
        body = {
            "sub": token.subject,
            "client_id": token.client_id,
            "scope": " ".join(sorted(token.scopes)),
            "scopes": sorted(token.scopes),
            "exp": token.expires_at,
            "grant_type": token.claims.get("gty"),
            "token_type": "Bearer" if jkt is None else "DPoP",
            "cnf": None if jkt is None else {"jkt": jkt},
            "bearer": BEARER_NOTE if jkt is None else BOUND_NOTE,
        }
        return JSONResponse(body, headers=NO_STORE)

    @requires_scope("notes:read")
    async def list_notes(request: Request) -> Response:
        subject = _token(request).subject
        return JSONResponse({"sub": subject, "notes": notes_of(subject)}, headers=NO_STORE)

    @requires_scope("notes:write")
    async def add_note(request: Request) -> Response:
        text = await _read_text(request)
        if isinstance(text, Response):
            return text
        mine = notes_of(_token(request).subject)
        note = {"id": max((n["id"] for n in mine), default=0) + 1, "text": text}
        mine.append(note)
        del mine[:-MAX_NOTES]
        return JSONResponse(note, status_code=201, headers=NO_STORE)

    stack = [
        *middleware,
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "DPoP"],
            expose_headers=["WWW-Authenticate", "DPoP-Nonce"],
            allow_credentials=False,
            max_age=600,
        ),
        Middleware(BearerAuthMiddleware, validator=validator, realm=realm, dpop=dpop),
    ]
    return Starlette(
        routes=[
            Route("/api/health", health, methods=["GET"]),
            Route("/api/me", me, methods=["GET"]),
            Route("/api/notes", list_notes, methods=["GET"]),
            Route("/api/notes", add_note, methods=["POST"]),
        ],
        middleware=stack,
    )
