"""The token endpoint (RFC 6749 §3.2, §5): authenticate the client, dispatch on ``grant_type``.

Every outcome is a :class:`JsonResponse` with ``Cache-Control: no-store``: a token (§5.1) or
one of the §5.2 errors, ``invalid_client`` as 401 with ``WWW-Authenticate`` when the client used
HTTP Basic, and 429 with ``Retry-After`` once a client id has failed too often. Nothing here
raises to the caller.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from tokenpath.core.client_auth import authenticate_client, read_credentials
from tokenpath.core.context import Context
from tokenpath.core.errors import OAuthError, UnsupportedGrantType
from tokenpath.core.grants.authorization_code import exchange_code
from tokenpath.core.grants.client_credentials import client_credentials
from tokenpath.core.grants.refresh_token import refresh
from tokenpath.core.messages import NO_STORE, BackchannelRequest, JsonResponse
from tokenpath.core.params import parse_pairs, require
from tokenpath.core.records import Client
from tokenpath.core.replies import error_reply

__all__ = ["GRANTS", "token"]

Grant = Callable[[Mapping[str, str], Client, Context], Awaitable[dict[str, object]]]

GRANTS: dict[str, Grant] = {
    "authorization_code": exchange_code,
    "refresh_token": refresh,
    "client_credentials": client_credentials,
}
"""``grant_type`` → handler. ``password`` (ROPC) is deliberately absent: RFC 9700 §2.4."""


async def token(request: BackchannelRequest, *, ctx: Context) -> JsonResponse:
    try:
        form = parse_pairs(request.form, max_length=ctx.policy.max_param_length)
        grant_type = require(form, "grant_type")
        credentials = read_credentials(form, request.authorization)
        handler = GRANTS.get(grant_type)
        if handler is None:
            raise UnsupportedGrantType(f"grant_type {grant_type!r} is not supported")
        client = await authenticate_client(credentials, ctx)
        body = await handler(form, client, ctx)
    except OAuthError as error:
        return error_reply(error)
    return JsonResponse(status=200, body=body, headers=NO_STORE)
