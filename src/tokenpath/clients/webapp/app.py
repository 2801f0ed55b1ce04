"""A confidential web-server app using the authorization code flow (RFC 6749 §4.1).

The story, one route each:

* ``GET /login`` — start: a fresh server-side session holds a one-time ``state`` and a PKCE
  verifier (RFC 9700 §2.1.1 recommends PKCE for confidential clients too); the browser is sent
  to the authorization endpoint.
* ``GET /callback`` — the browser comes back with ``?code&state&iss``. ``state`` must match and
  is consumed (CSRF, RFC 9700 §4.7), ``iss`` must be our issuer (mix-up, RFC 9207); then the
  *server* redeems the code at the token endpoint with HTTP Basic client authentication and keeps
  the tokens in its session store. The answer is a 303 to ``/``, so the code leaves the address
  bar at once, and ``Referrer-Policy: no-referrer`` keeps it out of any ``Referer``.
* ``GET /`` — calls the protected API server-side with the token and shows the answer; an
  expired access token is renewed with the refresh token (rotation: the new one replaces it).
* ``POST /refresh`` and ``POST /logout``.

The browser only ever holds the ``webapp_session`` cookie, a random id.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlencode

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from tokenpath.clients.headers import SecurityHeaders
from tokenpath.clients.webapp.store import WebSession, WebSessionStore
from tokenpath.storage.sql import create_engine

__all__ = ["COOKIE", "WebappConfig", "create_webapp"]

COOKIE = "webapp_session"
CSP = (
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'; "
    "form-action 'self'"
)
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
STYLESHEET = (Path(__file__).parent / "webapp.css").read_text()


@dataclass(frozen=True, slots=True, kw_only=True)
class WebappConfig:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    api_base: str
    database_url: str
    scopes: str = "openid profile notes:read"


def basic_auth(client_id: str, client_secret: str) -> str:
    """RFC 6749 §2.3.1: form-urlencode id and secret, then base64."""
    raw = f"{quote_plus(client_id)}:{quote_plus(client_secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class _App:
    def __init__(self, config: WebappConfig) -> None:
        self.config = config
        self.engine = create_engine(config.database_url, pool_size=5)
        self.store = WebSessionStore(self.engine)
        self.http = httpx.AsyncClient(timeout=10)
        self._metadata: dict[str, Any] | None = None

    async def metadata(self) -> dict[str, Any]:
        """RFC 8414 discovery; the document's issuer must be exactly the configured one."""
        if self._metadata is None:
            url = f"{self.config.issuer}/.well-known/oauth-authorization-server"
            document = (await self.http.get(url)).raise_for_status().json()
            if document.get("issuer") != self.config.issuer:
                raise RuntimeError("discovery document names another issuer")
            self._metadata = document
        return self._metadata

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        context.setdefault("config", self.config)
        return TEMPLATES.TemplateResponse(request, name, context, status_code=status)

    def error(self, request: Request, message: str, status: int = 400) -> Response:
        return self.page(request, "error.html", status, message=message)

    async def session(self, request: Request) -> WebSession | None:
        return await self.store.get(request.cookies.get(COOKIE), int(time.time()))

    # --- routes ------------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        session = await self.session(request)
        if session is None or not session.signed_in:
            return self.page(request, "index.html", session=None)
        session, note = await self.fresh(session)
        if session is None:
            return self.page(request, "index.html", session=None, notice=note)
        api = {path: await self.call_api(session, path) for path in ("/api/me", "/api/notes")}
        return self.page(request, "index.html", session=session, api=api, notice=note)

    async def login(self, request: Request) -> Response:
        verifier, challenge = _pkce()
        state = secrets.token_urlsafe(24)
        session_id, _ = await self.store.start(
            int(time.time()), state=state, code_verifier=verifier
        )
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.config.client_id,
                "redirect_uri": self.config.redirect_uri,
                "scope": self.config.scopes,
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        response = RedirectResponse(
            f"{(await self.metadata())['authorization_endpoint']}?{query}", 302
        )
        self.set_cookie(response, session_id)
        return response

    async def callback(self, request: Request) -> Response:
        params = request.query_params
        session = await self.session(request)
        state = params.get("state", "")
        if (
            session is None
            or session.state is None
            or not secrets.compare_digest(state, session.state)
        ):
            return self.error(
                request, "This sign-in response does not belong to a sign-in you started."
            )
        pending = await self.store.take_pending(session)  # one-time, even if two callbacks race
        if pending is None:
            return self.error(request, "This sign-in response was already used.")
        if params.get("iss") != self.config.issuer:
            return self.error(
                request, "The response names another issuer (possible mix-up attack)."
            )
        if "error" in params:
            detail = params.get("error_description", "")
            return self.error(request, f"Sign-in did not complete: {params['error']} {detail}", 400)
        code = params.get("code")
        if not code or pending.code_verifier is None:
            return self.error(request, "The response carries no code.")
        tokens = await self.token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.config.redirect_uri,
                "code_verifier": pending.code_verifier,
            }
        )
        if "access_token" not in tokens:
            return self.error(
                request, f"The code could not be redeemed: {tokens.get('error')}", 502
            )
        await self.store.save(self.with_tokens(pending, tokens))
        return RedirectResponse("/", 303)

    async def refresh_now(self, request: Request) -> Response:
        session = await self.session(request)
        if session is not None and session.refresh_token:
            await self.refresh(session)
        return RedirectResponse("/", 303)

    async def logout(self, request: Request) -> Response:
        session = await self.session(request)
        if session is not None:
            await self.store.delete(session)
        response = RedirectResponse("/", 303)
        response.delete_cookie(COOKIE, path="/")
        return response

    # --- the server side of OAuth ---------------------------------------------------------------

    async def token_request(self, form: dict[str, str]) -> dict[str, Any]:
        endpoint = (await self.metadata())["token_endpoint"]
        auth = basic_auth(self.config.client_id, self.config.client_secret)
        response = await self.http.post(endpoint, data=form, headers={"Authorization": auth})
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            body = {"error": f"HTTP {response.status_code}"}
        return body

    def with_tokens(self, session: WebSession, tokens: dict[str, Any]) -> WebSession:
        return replace(
            session,
            state=None,
            code_verifier=None,
            access_token=tokens["access_token"],
            refresh_token=tokens.get("refresh_token", session.refresh_token),
            token_expires_at=int(time.time()) + int(tokens.get("expires_in", 0)),
            scope=tokens.get("scope"),
        )

    async def refresh(self, session: WebSession) -> WebSession | None:
        tokens = await self.token_request(
            {"grant_type": "refresh_token", "refresh_token": session.refresh_token or ""}
        )
        if "access_token" not in tokens:
            await self.store.delete(session)
            return None
        renewed = self.with_tokens(session, tokens)
        return await self.store.save(replace(renewed, refreshes=session.refreshes + 1))

    async def fresh(self, session: WebSession) -> tuple[WebSession | None, str | None]:
        """The session with a usable access token, refreshing it when it has (nearly) expired."""
        if (session.token_expires_at or 0) > time.time() + 5:
            return session, None
        if not session.refresh_token:
            await self.store.delete(session)
            return None, "Your access token expired; please sign in again."
        renewed = await self.refresh(session)
        if renewed is None:
            return None, "The refresh token was refused; please sign in again."
        return renewed, "The access token had expired; the app renewed it with its refresh token."

    async def call_api(self, session: WebSession, path: str) -> dict[str, Any]:
        response = await self.http.get(
            f"{self.config.api_base}{path}",
            headers={"Authorization": f"Bearer {session.access_token}"},
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        return {"status": response.status_code, "body": json.dumps(body, indent=2)}

    def set_cookie(self, response: Response, session_id: str) -> None:
        secure = self.config.redirect_uri.startswith("https://")
        response.set_cookie(
            COOKIE,
            session_id,
            path="/",
            httponly=True,
            samesite="lax",
            secure=secure,
            max_age=self.store.lifetime,
        )


def create_webapp(config: WebappConfig, *, middleware: Sequence[Middleware] = ()) -> Starlette:
    """The app; ``middleware`` wraps it first (e.g. a traffic recorder)."""
    app = _App(config)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await app.store.create_table()
        try:
            yield
        finally:
            await app.http.aclose()
            await app.engine.dispose()

    async def stylesheet(request: Request) -> Response:
        return Response(STYLESHEET, media_type="text/css")

    starlette = Starlette(
        routes=[
            Route("/", app.home),
            Route("/static/webapp.css", stylesheet),
            Route("/login", app.login),
            Route("/callback", app.callback),
            Route("/refresh", app.refresh_now, methods=["POST"]),
            Route("/logout", app.logout, methods=["POST"]),
        ],
        middleware=[*middleware, Middleware(SecurityHeaders, csp=CSP)],
        lifespan=lifespan,
    )
    starlette.state.webapp = app
    return starlette
