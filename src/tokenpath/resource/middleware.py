"""RFC 6750 bearer-token handling for any ASGI API.

:class:`BearerAuthMiddleware` reads the ``Authorization: Bearer`` header, validates the token
and leaves the outcome in ``scope["state"]``; :func:`requires_scope` guards a Starlette endpoint
and answers the RFC 6750 §3 challenge when the outcome does not allow the call:

* no token → 401 ``WWW-Authenticate: Bearer realm="..."`` (no error code, §3.1);
* a token that fails validation → 401 ``error="invalid_token"``;
* a token without the needed scope → 403 ``error="insufficient_scope", scope="..."``;
* a malformed request (two credentials, a bad header) → 400 ``error="invalid_request"``.

Tokens are accepted only in the header. The URI query (§2.3) is refused because URLs leak
through logs, history and ``Referer`` (RFC 9700 §4.3.2; OAuth 2.1 drops it); the form body
(§2.2) is not supported. Nothing here logs a token.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from tokenpath.core.errors import InsufficientScope, InvalidRequest, OAuthError
from tokenpath.resource.tokens import AccessToken, TokenValidator

__all__ = ["BearerAuthMiddleware", "challenge", "requires_scope"]

_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
Endpoint = Callable[[Request], Awaitable[Response]]


def _quote(value: str) -> str:
    return value.replace("\\", "").replace('"', "")


def challenge(error: OAuthError | None, *, realm: str, scope: str | None = None) -> Response:
    """The RFC 6750 §3 response for ``error`` (None: no credentials were presented)."""
    params = [f'realm="{_quote(realm)}"']
    body: dict[str, str] = {}
    status = 401
    if error is not None:
        body = error.to_dict()
        status = error.status
        params.append(f'error="{error.error}"')
        if error.description:
            params.append(f'error_description="{_quote(error.description)}"')
    else:
        body = {"error": "unauthorized", "error_description": "a bearer access token is required"}
    if scope:
        params.append(f'scope="{_quote(scope)}"')
    headers = {"WWW-Authenticate": "Bearer " + ", ".join(params), "Cache-Control": "no-store"}
    return JSONResponse(body, status_code=status, headers=headers)


def _extract(scope: Scope) -> str | InvalidRequest | None:
    """The bearer token, None when absent, or the reason the request is malformed."""
    values = [v for k, v in scope.get("headers", []) if k == b"authorization"]
    query = scope.get("query_string", b"")
    in_query = b"access_token=" in query
    if len(values) > 1:
        return InvalidRequest("more than one Authorization header")
    if not values:
        return (
            InvalidRequest("access tokens in the URI query are not accepted") if in_query else None
        )
    if in_query:
        return InvalidRequest("use one way of sending the access token")
    header: bytes = values[0]
    scheme, _, token = header.decode("latin-1").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    if not _B64TOKEN.fullmatch(token):
        return InvalidRequest("malformed bearer token")
    return token


class BearerAuthMiddleware:
    """Validates a presented bearer token once per request; endpoints decide what they need."""

    def __init__(
        self, app: ASGIApp, *, validator: TokenValidator, realm: str = "tokenpath"
    ) -> None:
        self.app = app
        self.validator = validator
        self.realm = realm

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["realm"] = self.realm
        extracted = _extract(scope)
        outcome: AccessToken | OAuthError | None
        if isinstance(extracted, str):
            outcome = await self.validator.validate(extracted)
        else:
            outcome = extracted
        state["access_token"] = outcome if isinstance(outcome, AccessToken) else None
        state["token_error"] = outcome if isinstance(outcome, OAuthError) else None
        await self.app(scope, receive, send)


def requires_scope(*needed: str) -> Callable[[Endpoint], Endpoint]:
    """Guard an endpoint: a valid token (from the middleware) holding every scope in ``needed``."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @wraps(endpoint)
        async def guarded(request: Request) -> Response:
            state: Any = request.state
            realm = getattr(state, "realm", "tokenpath")
            error = getattr(state, "token_error", None)
            token = getattr(state, "access_token", None)
            if error is not None:
                return challenge(error, realm=realm)
            if token is None:
                return challenge(None, realm=realm)
            missing = [s for s in needed if s not in token.scopes]
            if missing:
                return challenge(
                    InsufficientScope(f"this call needs scope {' '.join(needed)}"),
                    realm=realm,
                    scope=" ".join(needed),
                )
            return await endpoint(request)

        return guarded

    return decorate
