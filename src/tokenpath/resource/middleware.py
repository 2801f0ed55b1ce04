"""RFC 6750 bearer tokens for any ASGI API: read once per request, checked where a route says.

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
from urllib.parse import parse_qsl

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from tokenpath.core.bearer import QueryTokenRefused, header_token, quote
from tokenpath.core.errors import InsufficientScope, InvalidRequest, OAuthError
from tokenpath.resource.validation import AccessToken, TokenValidator

__all__ = [
    "BearerAuthMiddleware",
    "QueryTokenRefused",
    "RequireScope",
    "challenge",
    "check_access",
    "extract_bearer",
    "requires_scope",
]

_REALM = "bearer_realm"
_TOKEN = "access_token"
_ERROR = "token_error"

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Response]])


def challenge(error: OAuthError | None, *, realm: str, scope: str | None = None) -> Response:
    """The RFC 6750 §3 response for ``error`` (None: no credentials were presented)."""
    params = [f'realm="{quote(realm)}"']
    if error is None:
        status = 401
        body = {"error_description": "this API needs a bearer access token"}
    else:
        status = error.status
        body = error.to_dict()
        params.append(f'error="{error.error}"')
        if error.description:
            params.append(f'error_description="{quote(error.description)}"')
    if scope:
        params.append(f'scope="{quote(scope)}"')
        body["scope"] = scope
    headers = {"WWW-Authenticate": "Bearer " + ", ".join(params), "Cache-Control": "no-store"}
    return JSONResponse(body, status_code=status, headers=headers)


def extract_bearer(scope: Scope) -> str | OAuthError | None:
    """The presented bearer token, None when there is none, or why the request is malformed."""
    headers = [value for name, value in scope.get("headers", ()) if name == b"authorization"]
    query = scope.get("query_string", b"").decode("latin-1")
    in_query = any(name == "access_token" for name, _ in parse_qsl(query, keep_blank_values=True))
    if len(headers) > 1:
        return InvalidRequest("send one Authorization header")
    token = None
    if headers:
        try:
            token = header_token(headers[0].decode("latin-1"))
        except InvalidRequest as error:
            return error
    if in_query:
        if token is not None:
            return InvalidRequest("send the access token one way only")
        return QueryTokenRefused(
            "access tokens in the URI query are not accepted; use the Authorization header"
        )
    return token


class BearerAuthMiddleware:
    """Validates a presented bearer token once per request; routes decide what they need."""

    def __init__(
        self, app: ASGIApp, validator: TokenValidator, *, realm: str = "tokenpath"
    ) -> None:
        self.app = app
        self.validator = validator
        self.realm = realm

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        extracted = extract_bearer(scope)
        outcome: AccessToken | OAuthError | None
        if isinstance(extracted, str):
            outcome = await self.validator.validate(extracted)
        else:
            outcome = extracted
        state = scope.setdefault("state", {})
        state[_REALM] = self.realm
        state[_TOKEN] = outcome if isinstance(outcome, AccessToken) else None
        state[_ERROR] = outcome if isinstance(outcome, OAuthError) else None
        await self.app(scope, receive, send)


def check_access(scope: Scope, *needed: str) -> AccessToken | Response:
    """The request's token if it holds every scope in ``needed``, else the challenge to send."""
    state = scope.get("state") or {}
    if _REALM not in state:
        # fail closed and loudly: a guard without the middleware would deny everyone silently
        raise RuntimeError("BearerAuthMiddleware must wrap every route that checks access")
    realm: str = state[_REALM]
    error: OAuthError | None = state.get(_ERROR)
    token: AccessToken | None = state.get(_TOKEN)
    if error is not None:
        return challenge(error, realm=realm)
    if token is None:
        return challenge(None, realm=realm)
    if not token.allows(*needed):
        wanted = " ".join(needed)
        return challenge(
            InsufficientScope(f"this call needs scope {wanted}"), realm=realm, scope=wanted
        )
    return token


def requires_scope(*needed: str) -> Callable[[Handler], Handler]:
    """Guard a Starlette endpoint (function or ``HTTPEndpoint`` method); no scopes: any token."""

    def decorate(endpoint: Handler) -> Handler:
        @wraps(endpoint)
        async def guarded(*args: Any) -> Response:
            connection = args[-1] if args else None
            if not isinstance(connection, HTTPConnection):
                raise TypeError("requires_scope guards endpoints that take the request last")
            outcome = check_access(connection.scope, *needed)
            if isinstance(outcome, Response):
                return outcome
            return await endpoint(*args)

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
