"""The token endpoint (RFC 6749 §3.2, §5): authenticate the client, dispatch on ``grant_type``.

Steps, in order: parse the form (duplicates refused, §3.2; RFC 8707 ``resource`` read apart,
``core/resources.py``), find the grant's row in
``core.grants.registry`` (``unsupported_grant_type`` for a grant it does not offer), authenticate
the client (§3.2.1), check once from the row that this client may use the grant
(``unauthorized_client``, §5.2), then run the grant's handler on the parameters its row declares.

Every outcome is a :class:`JsonResponse` with ``Cache-Control: no-store``: a token (§5.1) or
one of the §5.2 errors, ``invalid_client`` as 401 with ``WWW-Authenticate`` when the client used
HTTP Basic, and 429 with ``Retry-After`` once a client id has failed too often. Nothing here
raises to the caller.

After client authentication the request's DPoP proof, if any, is checked
(``core.dpop_binding``) and the handler receives the proven key's thumbprint, to bind what it
issues (RFC 9449 §5); while server nonces are on, every answer carries ``DPoP-Nonce``.
"""

from __future__ import annotations

from tokenpath.core.client_auth import authenticate_client, read_credentials
from tokenpath.core.context import Context
from tokenpath.core.dpop_binding import nonce_headers, token_request_key
from tokenpath.core.errors import OAuthError, UnauthorizedClient, UnsupportedGrantType
from tokenpath.core.grants.registry import GrantHandler, GrantSpec, grant_spec
from tokenpath.core.messages import NO_STORE, BackchannelRequest, JsonResponse
from tokenpath.core.params import require
from tokenpath.core.policy import Policy
from tokenpath.core.replies import error_reply
from tokenpath.core.resources import read_token_form

__all__ = ["token"]


def _offered(grant_type: str, policy: Policy) -> tuple[GrantSpec, GrantHandler]:
    spec = grant_spec(grant_type)
    if spec is None or spec.handler is None or not spec.enabled(policy):
        raise UnsupportedGrantType(f"grant_type {grant_type!r} is not supported")
    return spec, spec.handler


async def token(request: BackchannelRequest, *, ctx: Context) -> JsonResponse:
    nonce = await nonce_headers(ctx)
    try:
        form = read_token_form(request.form, max_length=ctx.policy.max_param_length)
        grant_type = require(form, "grant_type")
        credentials = read_credentials(form, request.authorization)
        spec, handler = _offered(grant_type, ctx.policy)
        client = await authenticate_client(credentials, ctx, address=request.address)
        if not spec.permits(client):
            raise UnauthorizedClient(f"this client may not use the {grant_type} grant")
        jkt = await token_request_key(request.dpop, client, ctx)
        issued = await handler(spec.read(form), client, ctx, jkt)
    except OAuthError as error:
        reply = error_reply(error)
        return JsonResponse(status=reply.status, body=reply.body, headers=reply.headers + nonce)
    return JsonResponse(status=200, body=issued.body(), headers=NO_STORE + nonce)
