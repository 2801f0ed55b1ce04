"""RFC 6750 bearer and RFC 9449 DPoP tokens for any ASGI API: read once per request, checked
where a route says.

The Starlette adapter of :mod:`.guard`, which makes every decision; this module only moves
ASGI scopes in and responses out.

:class:`BearerAuthMiddleware` reads the ``Authorization`` header, validates a presented token
and leaves the outcome in ``scope["state"]`` (Starlette: ``request.state.access_token``, an
:class:`~tokenpath.resource.validation.AccessToken` or None). Routes state what they need with
:func:`requires_scope` (Starlette endpoints), :class:`RequireScope` (any ASGI app) or
:func:`check_access` (by hand); those answer the RFC 6750 §3 challenge when the call is not
allowed:

* no token → 401 ``WWW-Authenticate: Bearer realm="..."`` with no error code (§3.1);
* a token that fails validation → 401 ``error="invalid_token"``;
* a valid token without a needed scope → 403 ``error="insufficient_scope", scope="..."``;
* a malformed request (two ``Authorization`` headers, a bad bearer value, the token sent two
  ways) → 400 ``error="invalid_request"``.

:func:`requires_scope` works on any endpoint signature that receives the request, positionally
(Starlette, ``HTTPEndpoint`` methods) or by keyword (FastAPI's ``request: Request``); for FastAPI
prefer :class:`tokenpath.resource.fastapi.TokenAuth`, which also documents the security scheme.

``Authorization: DPoP <token>`` with its ``DPoP`` proof is accepted too (``dpop=`` on the
middleware: :class:`~tokenpath.resource.dpop.DpopOptions`, or False for Bearer only); the
challenges then name both schemes and a proof problem answers 401 ``invalid_dpop_proof``.

Every challenge also has a JSON body with ``error``/``error_description`` (the no-token one only
the description, as it has no error code) and ``Cache-Control: no-store``.

Tokens are accepted only in the ``Authorization`` header (§2.1). The URI query (§2.3) is
refused: URLs end up in server and proxy logs, browser history and ``Referer`` (RFC 9700
§4.3.2; OAuth 2.1 drops the method). A query token therefore counts as no token, and the 401
says why with ``error="invalid_request"`` (tokenpath security catalog A8.3). The form body (§2.2)
is not supported: the middleware never reads request bodies. Nothing here logs a token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, TypeVar, cast

from starlette.datastructures import URL
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from tokenpath.core.bearer import QueryTokenRefused
from tokenpath.core.errors import OAuthError
from tokenpath.resource.guard import (
    Denial,
    DpopOptions,
    Guard,
    Presented,
    RequestFacts,
    authorize,
    deny,
    read_credentials,
)
from tokenpath.resource.validation import AccessToken, TokenValidator

__all__ = [
    "BearerAuthMiddleware",
    "QueryTokenRefused",
    "RequireScope",
    "challenge",
    "check_access",
    "extract_bearer",
    "facts_of",
    "render",
    "requires_scope",
]

_REALM = "bearer_realm"
_DPOP = "dpop_options"
_TOKEN = "access_token"
_ERROR = "token_error"

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])


def render(denial: Denial) -> Response:
    """A :class:`~tokenpath.resource.guard.Denial` as a Starlette response."""
    return JSONResponse(dict(denial.body), status_code=denial.status, headers=dict(denial.headers))


def challenge(error: OAuthError | None, *, realm: str, scope: str | None = None) -> Response:
    """The RFC 6750 §3 response for ``error`` (None: no credentials were presented)."""
    return render(deny(error, realm=realm, scope=scope))


def facts_of(scope: Scope) -> RequestFacts:
    """What the guard reads of an ASGI HTTP or websocket scope; the URL is the one the client
    called as far as the ``Host`` header tells (behind a proxy: ``DpopOptions.public_url``)."""
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", ())]
    return RequestFacts.of(scope.get("method", "GET"), str(URL(scope=scope)), headers)


def extract_bearer(scope: Scope) -> str | OAuthError | None:
    """The presented bearer token, None when there is none, or why the request is malformed."""
    presented = read_credentials(facts_of(scope))
    return presented.token if isinstance(presented, Presented) else presented


class BearerAuthMiddleware:
    """Validates a presented bearer token once per request; routes decide what they need."""

    def __init__(
        self,
        app: ASGIApp,
        validator: TokenValidator,
        *,
        realm: str = "tokenpath",
        dpop: DpopOptions | bool = True,
    ) -> None:
        """``dpop``: DPoP-bound tokens accepted next to Bearer (True, the default, or the
        :class:`~tokenpath.resource.dpop.DpopOptions`), or Bearer only (False)."""
        self.app = app
        self.guard = Guard(validator, realm=realm, dpop=dpop)

    @property
    def realm(self) -> str:
        return self.guard.realm

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        outcome = await self.guard.authenticate(facts_of(scope))
        state = scope.setdefault("state", {})
        state[_REALM] = self.guard.realm
        state[_DPOP] = self.guard.dpop
        state[_TOKEN] = outcome if isinstance(outcome, AccessToken) else None
        state[_ERROR] = outcome if isinstance(outcome, OAuthError) else None
        await self.app(scope, receive, send)


def check_access(scope: Scope, *needed: str) -> AccessToken | Response:
    """The request's token if it holds every scope in ``needed``, else the challenge to send."""
    state = scope.get("state") or {}
    if _REALM not in state:
        # fail closed and loudly: a guard without the middleware would deny everyone silently
        raise RuntimeError("BearerAuthMiddleware must wrap every route that checks access")
    outcome = state.get(_ERROR) or state.get(_TOKEN)
    decision = authorize(outcome, needed, realm=state[_REALM], dpop=state.get(_DPOP))
    return render(decision) if isinstance(decision, Denial) else decision


def _connection(args: tuple[Any, ...], kwargs: dict[str, Any]) -> HTTPConnection:
    """The request among an endpoint's arguments, wherever the framework put it."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, HTTPConnection):
            return value
    raise TypeError("requires_scope guards endpoints that receive the request")


def requires_scope(*needed: str) -> Callable[[Handler], Handler]:
    """Guard an endpoint that receives the request (positionally or by keyword); no scopes:
    any valid token. The signature is kept, so FastAPI still sees the endpoint's parameters."""

    def decorate(endpoint: Handler) -> Handler:
        @wraps(endpoint)
        async def guarded(*args: Any, **kwargs: Any) -> Any:
            outcome = check_access(_connection(args, kwargs).scope, *needed)
            if isinstance(outcome, Response):
                return outcome
            return await endpoint(*args, **kwargs)

        return cast(Handler, guarded)

    return decorate


class RequireScope:
    """Guard a whole ASGI app (a mounted sub-app, another framework) behind the middleware."""

    def __init__(self, app: ASGIApp, *needed: str) -> None:
        self.app = app
        self.needed = needed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        outcome = check_access(scope, *self.needed)
        if not isinstance(outcome, Response):
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            await outcome(scope, receive, send)
        else:  # a websocket handshake cannot carry the challenge: refuse it (RFC 6455 §7.4.1)
            await send({"type": "websocket.close", "code": 1008})
