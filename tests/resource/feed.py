"""A stand-in authorization server with a revocation feed, exactly as the contract in
``src/tokenpath/resource/revocation.py`` describes it, served by uvicorn on loopback.

It signs tokens like :class:`~tests.resource.support.TokenIssuer` and adds
``GET /revocations[?since=CURSOR]`` behind HTTP Basic (the API's credentials). The cursor is
the sequence number of the last entry returned; ``fail_with`` makes the feed answer an error.
``POST /token`` and ``POST /revoke`` are just enough for ``bench/revocation_delay.py``.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.resource.support import AUDIENCE, NOW, TokenIssuer

API_CLIENT_ID = "notes-api"
API_SECRET = "feed secret: don't log me"


@dataclass
class FeedLog:
    sinces: list[str | None] = field(default_factory=list)
    refused: int = 0


class FeedIssuer(TokenIssuer):
    def __init__(self, url: str) -> None:
        self.feed_path = "/revocations"
        super().__init__(url)

    def reset(self) -> None:
        super().reset()
        self.entries: list[dict[str, Any]] = []
        self.poll_interval: float | None = 1
        self.fail_with: int | None = None
        self.page_override: Any = None
        self.forget_cursors = False
        self.log = FeedLog()
        self.issued = 0
        self.documents["/.well-known/oauth-authorization-server"] = lambda: {
            "issuer": self.url,
            "jwks_uri": f"{self.url}/jwks",
            "revocation_feed_endpoint": f"{self.url}{self.feed_path}",
        }

    def revoke_id(
        self, *, jti: str | None = None, grant_id: str | None = None, exp: int = NOW + 540
    ) -> None:
        entry: dict[str, Any] = {"exp": exp}
        entry.update({"jti": jti} if jti else {"grant_id": grant_id})
        self.entries.append(entry)

    def _authorized(self, request: Request) -> bool:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme != "Basic":
            return False
        user, _, password = base64.b64decode(value).decode().partition(":")
        # form-urlencoded before base64, as RFC 6749 §2.3.1 asks
        return (unquote_plus(user), unquote_plus(password)) == (API_CLIENT_ID, API_SECRET)

    async def feed(self, request: Request) -> Response:
        self.hits[request.url.path] += 1
        since = request.query_params.get("since")
        self.log.sinces.append(since)
        if not self._authorized(request):
            self.log.refused += 1
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if self.fail_with is not None:
            return JSONResponse({"error": "server_error"}, status_code=self.fail_with)
        if since is not None and self.forget_cursors:
            return JSONResponse({"error": "invalid_request"}, status_code=410)
        if self.page_override is not None:
            return JSONResponse(self.page_override)
        start = int(since) if since is not None else 0
        body: dict[str, Any] = {"cursor": str(len(self.entries)), "revoked": self.entries[start:]}
        if self.poll_interval is not None:
            body["poll_interval"] = self.poll_interval
        return JSONResponse(body)

    async def token(self, request: Request) -> Response:
        """Client credentials for any caller: a token valid now (the bench runs on real time)."""
        form = dict(parse_qsl((await request.body()).decode()))  # no multipart parser needed
        now = int(time.time())
        self.issued += 1
        claims = {"iat": now, "exp": now + 300, "jti": f"bench-{self.issued}"}
        token = self.sign(scope=str(form.get("scope", "")), aud=AUDIENCE, **claims)
        return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": 300})

    async def revoke(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))  # no multipart parser needed
        claims = json.loads(base64.urlsafe_b64decode(str(form["token"]).split(".")[1] + "=="))
        self.revoke_id(jti=claims["jti"], exp=claims["exp"])
        return Response(status_code=200)

    def app(self) -> Starlette:
        documents = super().app()
        return Starlette(
            routes=[
                Route(self.feed_path, self.feed),
                Route("/feed-elsewhere", self.feed),
                Route("/token", self.token, methods=["POST"]),
                Route("/revoke", self.revoke, methods=["POST"]),
                *documents.routes,
            ]
        )
