"""Token revocation (RFC 7009).

* The client authenticates as at the token endpoint; public clients identify with ``client_id``
  (§2.1 allows them to revoke their own tokens).
* Unknown, malformed or already-invalid tokens answer 200 (§2.2): the client's goal, a dead
  token, is met, and the answer reveals nothing.
* A token issued to another client is refused and left alone (§2.1).
* Revoking a refresh token revokes its grant: every token of the family (§2.1 "SHOULD also
  invalidate all access tokens based on the same authorization grant"). Revoking an access token
  revokes that token only.
"""

from __future__ import annotations

from tokenpath.core.client_auth import authenticate_client, read_credentials
from tokenpath.core.context import Context
from tokenpath.core.errors import InvalidRequest, OAuthError
from tokenpath.core.messages import NO_STORE, BackchannelRequest, JsonResponse
from tokenpath.core.params import parse_pairs, require
from tokenpath.core.records import AccessTokenRecord
from tokenpath.core.replies import error_reply
from tokenpath.core.token_lookup import find_token

__all__ = ["revoke"]


async def revoke(request: BackchannelRequest, *, ctx: Context) -> JsonResponse:
    try:
        form = parse_pairs(request.form, max_length=ctx.policy.max_param_length)
        client = await authenticate_client(read_credentials(form, request.authorization), ctx)
        token = require(form, "token")
        found = await find_token(token, form.get("token_type_hint"), ctx)
        if found is not None and found.client_id != client.client_id:
            raise InvalidRequest("the token was not issued to this client")
    except OAuthError as error:
        return error_reply(error)
    now = ctx.clock.now()
    if isinstance(found, AccessTokenRecord):
        await ctx.stores.tokens.revoke(found, now)
    elif found is not None:
        await ctx.stores.grants.revoke(found.grant_id, now)
    return JsonResponse(status=200, body={}, headers=NO_STORE)
