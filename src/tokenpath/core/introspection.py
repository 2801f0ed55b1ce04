"""Token introspection (RFC 7662) for resource servers and clients.

The caller must authenticate as a confidential client (§2.1: the endpoint MUST require
authorization). Every inactive case (unknown, expired, revoked, its grant revoked, a used refresh
token) answers only ``{"active": false}`` (§2.2), so the endpoint reveals nothing about why.

An access token bound to a DPoP key answers ``token_type: DPoP`` and ``cnf.jkt`` (RFC 9449 §6.2),
so a resource server that introspects can check the proof's key.
"""

from __future__ import annotations

from tokenpath.core.client_auth import ClientAuthError, authenticate_client, read_credentials
from tokenpath.core.context import Context
from tokenpath.core.errors import OAuthError
from tokenpath.core.messages import NO_STORE, BackchannelRequest, JsonResponse
from tokenpath.core.params import format_scope, parse_pairs, require
from tokenpath.core.records import AccessTokenRecord
from tokenpath.core.replies import error_reply
from tokenpath.core.token_lookup import Found, find_token, is_active

__all__ = ["introspect"]


def _claims(found: Found, issuer: str) -> dict[str, object]:
    body: dict[str, object] = {
        "active": True,
        "scope": format_scope(found.scope),
        "client_id": found.client_id,
        "exp": found.expires_at,
        "iat": found.issued_at,
        "iss": issuer,
    }
    if isinstance(found, AccessTokenRecord):
        body.update(
            token_type="DPoP" if found.jkt else "Bearer",
            sub=found.subject,
            aud=found.audience,
            jti=found.jti,
            gty=found.grant_type.value,
        )
        if found.jkt:
            body["cnf"] = {"jkt": found.jkt}
    else:
        body.update(token_type="refresh_token", sub=found.user_id)
    return body


async def introspect(request: BackchannelRequest, *, ctx: Context) -> JsonResponse:
    try:
        form = parse_pairs(request.form, max_length=ctx.policy.max_param_length)
        client = await authenticate_client(
            read_credentials(form, request.authorization), ctx, address=request.address
        )
        if client.is_public:
            raise ClientAuthError("introspection requires client authentication", basic=False)
        token = require(form, "token")
    except OAuthError as error:
        return error_reply(error)
    found = await find_token(token, form.get("token_type_hint"), ctx)
    if found is None or not await is_active(found, ctx):
        return JsonResponse(status=200, body={"active": False}, headers=NO_STORE)
    return JsonResponse(status=200, body=_claims(found, ctx.policy.issuer), headers=NO_STORE)
