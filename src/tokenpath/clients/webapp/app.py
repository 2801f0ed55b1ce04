"""A confidential web-server app using the authorization code flow (RFC 6749 §4.1).

The story, one route each:

* ``GET /login`` — start: a fresh server-side session holds a one-time ``state``, a PKCE
  verifier (RFC 9700 §2.1.1 recommends PKCE for confidential clients too) and an OpenID Connect
  ``nonce``; the browser is sent to the authorization endpoint.
* ``GET /callback`` — the browser comes back with ``?code&state&iss``. ``state`` must match the
  one this browser's session holds and is consumed (CSRF, RFC 9700 §4.7), ``iss`` must be our
  issuer (mix-up, RFC 9207 §2.4); only then does the *server* redeem the code at the token
  endpoint with HTTP Basic client authentication, checks the ID token with its own code
  (``id_tokens.py``: signature against the issuer's JWKS, ``iss``, ``aud``, ``exp``, ``nonce``,
  ``at_hash``) and keeps the tokens in its session store. The
  answer is a 303 to ``/``, so the code leaves the address bar at once, and
  ``Referrer-Policy: no-referrer`` keeps it out of any ``Referer`` (RFC 9700 §4.2.4).
* ``GET /`` — calls the protected API server-side with the token and shows the answer; an
  expired access token is renewed with the refresh token (rotation: the new one replaces it).
* ``POST /refresh`` and ``POST /logout``: revokes the refresh token (RFC 7009), then sends the
  browser to the server's end-session endpoint (RP-Initiated Logout 1.0 §2: ``id_token_hint``,
  the registered ``post_logout_redirect_uri``, a one-time ``state`` kept in a cookie);
  ``GET /signed-out`` is where the server sends it back.
* ``POST /backchannel-logout`` — the server's logout token (Back-Channel Logout 1.0 §2.6 checks,
  ``jti`` used once): every session of that server session (``sid``) ends.

The browser only ever holds the ``webapp_session`` cookie, a random id. Redirects only ever go
to ``/`` or to the discovered authorization endpoint: there is no ``?next=`` to abuse.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from tokenpath.clients.headers import SecurityHeaders
from tokenpath.clients.webapp.config import WebappConfig
from tokenpath.clients.webapp.guards import csp_for, refused, same, same_origin_post
from tokenpath.clients.webapp.id_tokens import (
    LEEWAY,
    TokenRejected,
    check_id_token,
    check_logout_token,
)
from tokenpath.clients.webapp.oauth import (
    ApiAnswer,
    OAuthClient,
    ProviderError,
    TokenError,
    TokenSet,
    new_pkce,
)
from tokenpath.clients.webapp.store import (
    PENDING_LIFETIME,
    WebSession,
    WebSessionStore,
    open_engine,
)

__all__ = ["COOKIE", "WebappConfig", "create_webapp"]

COOKIE = "webapp_session"
LOGOUT_COOKIE = "webapp_logout_state"
"""Holds the ``state`` of a logout in progress until the server sends the browser back."""
API_PATHS = ("/api/me", "/api/notes")
RENEW_MARGIN = 5
"""Seconds before expiry at which the app already renews the access token."""
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
STYLESHEET = (Path(__file__).parent / "webapp.css").read_text(encoding="utf-8")
_FRIENDLY_ERRORS = {
    "access_denied": "You chose not to allow this app, so it has no access. Nothing was stored.",
    "login_required": "You need to sign in at the authorization server first.",
    "consent_required": "The authorization server needs your consent first.",
    "temporarily_unavailable": "The authorization server is busy; try again in a moment.",
}


def _now() -> int:
    return int(time.time())


class _Webapp:
    def __init__(self, config: WebappConfig) -> None:
        self.config = config
        self.engine = open_engine(config.database_url)
        self.store = WebSessionStore(self.engine)
        self.http = httpx.AsyncClient(timeout=10, follow_redirects=False)
        self.oauth = OAuthClient(
            issuer=config.issuer,
            client_id=config.client_id,
            client_secret=config.client_secret,
            redirect_uri=config.redirect_uri,
            http=self.http,
        )
        self._renewing: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    # --- pages ----------------------------------------------------------------------------------

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        context.setdefault("config", self.config)
        return TEMPLATES.TemplateResponse(request, name, context, status_code=status)

    def problem(self, request: Request, message: str, status: int = 400, **extra: Any) -> Response:
        return self.page(request, "error.html", status, message=message, **extra)

    async def session(self, request: Request) -> WebSession | None:
        return await self.store.get(request.cookies.get(COOKIE), _now())

    # --- routes ----------------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        session = await self.session(request)
        if session is None or not session.signed_in:
            return self.page(request, "index.html", session=None)
        session, notice = await self.fresh(session)
        if session is None:
            return self.page(request, "index.html", session=None, notice=notice)
        api: dict[str, ApiAnswer] = {}
        for path in API_PATHS:
            api[path] = await self.oauth.call_api(self.config.api_url(path), _token(session))
        profile = json.loads(session.profile) if session.profile else None
        if not isinstance(profile, dict):
            profile = {}
        claims = json.loads(session.id_claims) if session.id_claims else {}
        return self.page(
            request,
            "index.html",
            session=session,
            api=api,
            profile=profile,
            claims=claims,
            notice=notice,
        )

    async def login(self, request: Request) -> Response:
        verifier, challenge = new_pkce()
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        location = await self.oauth.authorization_url(
            scope=self.config.scopes, state=state, code_challenge=challenge, nonce=nonce
        )
        session_id, _ = await self.store.start(
            _now(),
            state=state,
            code_verifier=verifier,
            nonce=nonce,
            replacing=request.cookies.get(COOKIE),
        )
        response = RedirectResponse(location, status_code=302)
        self.set_cookie(response, session_id, max_age=PENDING_LIFETIME)
        return response

    async def callback(self, request: Request) -> Response:
        params = request.query_params
        if any(len(params.getlist(name)) > 1 for name in ("code", "state", "iss", "error")):
            return self.problem(request, "The sign-in response repeats a parameter; ignored.")
        session = await self.session(request)
        state = params.get("state", "")
        if session is None or session.state is None or not same(state, session.state):
            return self.problem(
                request, "This sign-in response does not belong to a sign-in you started here."
            )
        pending = await self.store.take_pending(session)  # one-time, even if two callbacks race
        if pending is None or pending.code_verifier is None:
            return self.problem(request, "This sign-in response was already used.")
        if params.get("iss") != self.config.issuer:  # RFC 9207 §2.4, before anything else
            return self.problem(
                request,
                "The response does not come from the expected authorization server "
                "(wrong or missing iss: a possible mix-up attack). Nothing was sent anywhere.",
            )
        if "error" in params:
            error = params["error"]
            return self.problem(
                request,
                f"The authorization server answered {error}: {params.get('error_description', '')}",
                explanation=_FRIENDLY_ERRORS.get(error, "The sign-in did not complete."),
            )
        code = params.get("code")
        if not code:
            return self.problem(request, "The response carries no authorization code.")
        tokens = await self.oauth.redeem(code, pending.code_verifier)
        if isinstance(tokens, TokenError):
            return self.problem(
                request,
                f"The code could not be redeemed: {tokens.error} {tokens.description}",
                status=502,
            )
        claims: dict[str, Any] = {}
        if self.config.wants_id_token:
            checked = await self.id_token(tokens, pending.nonce or "")
            if isinstance(checked, str):
                return self.problem(request, f"The ID token was refused: {checked}.", status=502)
            claims = checked
        me = await self.oauth.call_api(self.config.api_url("/api/me"), tokens.access_token)
        profile = json.dumps(me.body) if me.status == 200 else None
        session_id = await self.store.sign_in(
            pending,
            tokens,
            profile=profile,
            now=_now(),
            id_claims=json.dumps(claims) if claims else None,
            sid=claims.get("sid") if isinstance(claims.get("sid"), str) else None,
            sub=claims.get("sub"),
        )
        # the code leaves the address bar at once; SecurityHeaders adds no-referrer to this
        # answer as to every other one, so the callback URL is never sent as a Referer
        response = RedirectResponse("/", status_code=303)
        self.set_cookie(response, session_id, max_age=self.store.lifetime)
        return response

    async def refresh_now(self, request: Request) -> Response:
        if not same_origin_post(request):
            return self.problem(request, "Cross-site form submissions are refused.", 403)
        session = await self.session(request)
        notice = None
        if session is not None and session.signed_in and session.refresh_token:
            renewed = await self.renew(session)
            notice = None if renewed is not None else "The refresh token was refused."
        if notice:
            return self.page(request, "index.html", session=None, notice=notice)
        return RedirectResponse("/", status_code=303)

    async def logout(self, request: Request) -> Response:
        if not same_origin_post(request):
            return self.problem(request, "Cross-site form submissions are refused.", 403)
        session = await self.session(request)
        location, state = "/", secrets.token_urlsafe(24)
        if session is not None:
            await self.store.delete(session)
            if session.refresh_token:
                await self.oauth.revoke(session.refresh_token, "refresh_token")
            elif session.access_token:
                await self.oauth.revoke(session.access_token, "access_token")
            if session.id_token:
                end_session = await self.oauth.end_session_url(
                    id_token=session.id_token,
                    post_logout_redirect_uri=self.config.post_logout_redirect_uri,
                    state=state,
                )
                location = end_session or location
        response = RedirectResponse(location, status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
        if location != "/":
            self.set_cookie(response, state, max_age=PENDING_LIFETIME, name=LOGOUT_COOKIE)
        return response

    async def signed_out(self, request: Request) -> Response:
        """RP-Initiated Logout 1.0 §3: the server sent the browser back with our ``state``."""
        expected = request.cookies.get(LOGOUT_COOKIE)
        matched = expected is not None and same(request.query_params.get("state", ""), expected)
        response = self.page(request, "signed_out.html", state_matched=matched)
        response.delete_cookie(LOGOUT_COOKIE, path="/", httponly=True, samesite="lax")
        return response

    async def backchannel_logout(self, request: Request) -> Response:
        """Back-Channel Logout 1.0 §2.5-2.8: 200 once the sessions are gone, else 400 (every
        answer is ``no-store``, like every answer of this app)."""
        tokens = await _form_values(request, "logout_token")
        if tokens is None or len(tokens) != 1:
            return refused("send exactly one logout_token")
        try:
            claims = await self.oauth.verified(check_logout_token, tokens[0], now=_now())
        except TokenRejected as error:
            return refused(str(error))
        if not await self.store.first_logout_token(claims.jti, claims.exp + LEEWAY, _now()):
            return refused("logout token replayed")
        await self.store.end_all(sid=claims.sid, sub=claims.sub)
        return Response(status_code=200)

    async def stylesheet(self, request: Request) -> Response:
        return Response(STYLESHEET, media_type="text/css")

    async def provider_error(self, request: Request, exc: Exception) -> Response:
        return self.problem(request, str(exc), status=502)

    # --- tokens ----------------------------------------------------------------------------------

    async def id_token(self, tokens: TokenSet, nonce: str) -> dict[str, Any] | str:
        """The verified claims, or why the ID token was refused."""
        if tokens.id_token is None:
            return "the token response carries no id_token although openid was requested"
        try:
            return await self.oauth.verified(
                check_id_token,
                tokens.id_token,
                nonce=nonce,
                access_token=tokens.access_token,
                now=_now(),
            )
        except TokenRejected as error:
            return str(error)

    async def fresh(self, session: WebSession) -> tuple[WebSession | None, str | None]:
        """The session with a usable access token, renewing it when it has (nearly) expired."""
        if session.token_expires_at is None or session.token_expires_at > _now() + RENEW_MARGIN:
            return session, None
        if not session.refresh_token:
            await self.store.delete(session)
            return None, "Your access token expired; please sign in again."
        renewed = await self.renew(session)
        if renewed is None:
            return None, "The refresh token was refused; please sign in again."
        return renewed, "The access token had expired; the app renewed it with its refresh token."

    async def renew(self, session: WebSession) -> WebSession | None:
        """Refresh once per session at a time: with rotation, a second concurrent use of the
        same refresh token would look like theft to the server and end the whole grant."""
        lock = self._renewing.get(session.id_hash)
        if lock is None:
            lock = self._renewing[session.id_hash] = asyncio.Lock()
        async with lock:
            current = await self.store.reload(session, _now())
            if current is None or current.refresh_token != session.refresh_token:
                return current  # renewed meanwhile by another request, or gone
            tokens = await self.oauth.refresh(current.refresh_token or "")
            if isinstance(tokens, TokenError):
                await self.store.delete(current)
                return None
            return await self.store.replace_tokens(current, tokens, now=_now())

    def set_cookie(
        self, response: Response, value: str, *, max_age: int, name: str = COOKIE
    ) -> None:
        response.set_cookie(
            name,
            value,
            path="/",
            httponly=True,
            samesite="lax",
            secure=self.config.redirect_uri.startswith("https://"),
            max_age=max_age,
        )


def _token(session: WebSession) -> str:
    assert session.access_token is not None
    return session.access_token


def create_webapp(config: WebappConfig, *, middleware: Sequence[Middleware] = ()) -> Starlette:
    """The app; ``middleware`` wraps it outermost (e.g. a traffic recorder), so it sees what the
    browser sees, security headers included."""
    app = _Webapp(config)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await app.store.create_table()
        try:
            yield
        finally:
            await app.http.aclose()
            await app.engine.dispose()

    starlette = Starlette(
        routes=[
            Route("/", app.home),
            Route("/static/webapp.css", app.stylesheet),
            Route("/login", app.login),
            Route("/callback", app.callback),
            Route("/refresh", app.refresh_now, methods=["POST"]),
            Route("/logout", app.logout, methods=["POST"]),
            Route("/signed-out", app.signed_out),
            Route("/backchannel-logout", app.backchannel_logout, methods=["POST"]),
        ],
        middleware=[*middleware, Middleware(SecurityHeaders, csp=csp_for(config))],
        exception_handlers={ProviderError: app.provider_error},
        lifespan=lifespan,
    )
    starlette.state.webapp = app
    return starlette


MAX_FORM_BYTES = 64 * 1024
"""A logout token is a few hundred bytes; anything this large is not one."""


async def _form_values(request: Request, name: str) -> list[str] | None:
    """Every value of ``name`` in an ``application/x-www-form-urlencoded`` body; None for any
    other content type or an oversized or undecodable body (read with the standard library,
    so the app needs no multipart parser)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        return None
    return [value for key, value in pairs if key == name]
