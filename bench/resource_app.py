"""Bench-only resource server: one handler served bare and behind bearer-token validation.

* ``GET /bare/notes``: the handler alone;
* ``GET /jwt/notes``: the same handler behind ``BearerAuthMiddleware`` with a ``JwtValidator``
  pointed at the running authorization server, and ``RequireScope(..., "notes:read")``;
* ``GET /demo/api/notes``: the demo API itself (``create_demo_api``, CORS middleware included).

The difference between the first two is what validating an access token costs an API. The
handler answers what the demo API's ``/api/notes`` answers (the caller's subject and the seed
notes). Configuration from the environment: ``BENCH_ISSUER``, ``BENCH_AUDIENCE`` and
optionally ``BENCH_JWKS_URI``. Serve with ``uvicorn resource_app:app --app-dir bench``.
"""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, Router

from tokenpath.resource import BearerAuthMiddleware, JwtValidator, RequireScope, create_demo_api
from tokenpath.resource.demo_api import SEED_NOTES

NOTES = [{"id": i, "text": t} for i, t in enumerate(SEED_NOTES, start=1)]


async def notes(request: Request) -> Response:
    token = getattr(request.state, "access_token", None)
    subject = token.subject if token is not None else "anonymous"
    return JSONResponse({"sub": subject, "notes": NOTES}, headers={"Cache-Control": "no-store"})


def create_app() -> Starlette:
    issuer = os.environ["BENCH_ISSUER"]
    audience = os.environ["BENCH_AUDIENCE"]
    jwks_uri = os.environ.get("BENCH_JWKS_URI") or None

    def validator() -> JwtValidator:
        return JwtValidator(issuer=issuer, audience=audience, jwks_uri=jwks_uri)

    handler = Router(routes=[Route("/notes", notes, methods=["GET"])])
    protected = BearerAuthMiddleware(
        RequireScope(handler, "notes:read"), validator=validator(), realm="bench"
    )
    return Starlette(
        routes=[
            Mount("/bare", app=handler),
            Mount("/jwt", app=protected),
            Mount("/demo", app=create_demo_api(validator())),
        ]
    )


app = create_app() if "BENCH_ISSUER" in os.environ else None
