"""Token introspection (RFC 7662) for resource servers and clients.

The caller must authenticate as a confidential client (§2.1: the endpoint MUST require
authorization). Every inactive case (unknown, expired, revoked, its grant revoked, a used refresh
token, its API deleted) answers only ``{"active": false}`` (§2.2), so the endpoint reveals
nothing about why.

Who may learn what (§4 leaves it to the server): a caller learns that a token is active, and
its claims, only for a token issued to itself, or an access token whose audience is the API
whose introspection credentials it holds (``Api.client_id``). For anyone else a live token is
``{"active": false}`` too, after the same lookups: the answer and the work done are alike, so
neither the body nor the timing tells a client whether another client's token is live.

An access token bound to a DPoP key answers ``token_type: DPoP`` and ``cnf.jkt`` (RFC 9449 §6.2),
so a resource server that introspects can check the proof's key.
"""

from __future__ import annotations

from tokenpath.core.client_auth import ClientAuthError, authenticate_client, read_credentials
from tokenpath.core.clock import constant_time_equals
from tokenpath.core.context import Context
from tokenpath.core.errors import OAuthError
from tokenpath.core.messages import NO_STORE, BackchannelRequest, JsonResponse
from tokenpath.core.params import format_scope, parse_pairs, require
from tokenpath.core.records import AccessTokenRecord, Client
from tokenpath.core.replies import error_reply
from tokenpath.core.token_claims import static_claims
from tokenpath.core.token_lookup import Found, find_token, is_active

__all__ = ["introspect"]


async def _entitled(found: Found | None, caller: Client, ctx: Context) -> bool:
    """The token was issued to ``caller``, or is for the API ``caller`` introspects for. The
    API is looked up whatever the first answer, so both paths cost the same."""
    audience = found.audience if isinstance(found, AccessTokenRecord) else ""
    api = await ctx.stores.apis.get(audience)
    if found is None:
        return False
    own = constant_time_equals(found.client_id, caller.client_id)
    return own or (api is not None and constant_time_equals(api.client_id, caller.client_id))


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
    active = found is not None and await is_active(found, ctx)
    entitled = await _entitled(found, client, ctx)
    if found is None or not active or not entitled:
        return JsonResponse(status=200, body={"active": False}, headers=NO_STORE)
    body = _claims(found, ctx.policy.issuer)
    if isinstance(found, AccessTokenRecord):
        api = await ctx.stores.apis.get(found.audience)
        body = {**static_claims(api), **body}  # reserved names stay the server's
    return JsonResponse(status=200, body=body, headers=NO_STORE)
