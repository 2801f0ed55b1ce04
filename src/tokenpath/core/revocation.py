"""Token revocation (RFC 7009).

* The client authenticates as at the token endpoint; public clients identify with ``client_id``
  (§2.1 allows them to revoke their own tokens).
* Unknown, malformed or already-invalid tokens answer 200 (§2.2): the client's goal, a dead
  token, is met, and the answer reveals nothing.
* A token issued to another client is left alone and answered exactly like an unknown one: 200
  and an empty body. §2.1 has the server refuse it, but a distinct refusal is an oracle (it
  tells any client that a token it holds is live and whose it is); the token's owner is no
  worse off, since nothing changes.
* Revoking a refresh token revokes its grant: every token of the family (§2.1 "SHOULD also
  invalidate all access tokens based on the same authorization grant"). Revoking an access token
  revokes that token only.
* Either is written to the revocation feed (``core/revocation_feed.py``), so the APIs that
  validate JWTs themselves learn of it within their poll interval.
* Only the client a token was issued to can revoke it; an API's introspection credentials
  revoke nothing (they are another client).
"""

from __future__ import annotations

from tokenpath.core.client_auth import authenticate_client, read_credentials
from tokenpath.core.context import Context
from tokenpath.core.errors import OAuthError
from tokenpath.core.messages import NO_STORE, BackchannelRequest, JsonResponse
from tokenpath.core.params import parse_pairs, require
from tokenpath.core.records import AccessTokenRecord
from tokenpath.core.replies import error_reply
from tokenpath.core.revocation_feed import record_grant_revocation, record_token_revocation
from tokenpath.core.token_lookup import find_token

__all__ = ["revoke"]


async def revoke(request: BackchannelRequest, *, ctx: Context) -> JsonResponse:
    try:
        form = parse_pairs(request.form, max_length=ctx.policy.max_param_length)
        client = await authenticate_client(
            read_credentials(form, request.authorization), ctx, address=request.address
        )
        token = require(form, "token")
        found = await find_token(token, form.get("token_type_hint"), ctx)
    except OAuthError as error:
        return error_reply(error)
    now = ctx.clock.now()
    if found is None or found.client_id != client.client_id:
        pass  # unknown, or another client's: the same answer, nothing changed
    elif isinstance(found, AccessTokenRecord):
        await ctx.stores.tokens.revoke(found, now)
        await record_token_revocation(ctx, found, now)
    else:
        await ctx.stores.grants.revoke(found.grant_id, now)
        await record_grant_revocation(ctx, found.grant_id, now)
    return JsonResponse(status=200, body={}, headers=NO_STORE)
