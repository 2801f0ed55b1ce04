"""The revocation feed: revoked JWTs and grants, per API, for validators that never call us.

Why: a JWT access token is checked by its API alone, so ``/revoke`` cannot reach it; an API that
polls ``GET /revocations`` every ``poll_interval`` seconds refuses a revoked token within about
that delay, with no call per request (docs/reference/revocation-feed.md; a tokenpath extension,
advertised as ``revocation_feed_endpoint``).

Contract:

* The caller authenticates with HTTP Basic (``client_secret_basic``) as an API's introspection
  credentials (``Api.client_id``). Bad or missing credentials: 401 ``invalid_client`` with a
  ``Basic`` challenge; credentials that are not an API's: 403 ``unauthorized_client``.
* ``since`` (optional) is a cursor from an earlier answer; anything else is 400
  ``invalid_request``. Without it the answer holds every live entry for the API; with it, only
  entries added after it. The answer: ``{"cursor", "revoked", "poll_interval"}``, each entry
  ``{"jti", "exp"}`` or ``{"grant_id", "exp"}``. An entry younger than :data:`SETTLE` seconds
  may come again in the next answer; the cursor never skips one.
* An entry is written when a JWT access token for the API is revoked (``exp`` the token's), and
  when a grant is revoked whose client may get tokens for the API (``exp`` the revocation time
  plus the API's access-token lifetime: no token of the grant outlives that). It is written by
  ``/revoke``, refresh-token reuse and code replay (``core/grants/replay.py``), and when a
  client is deleted (:func:`revoke_client_grants`: its grants are revoked first).
* Entries live in the database (``RevocationFeedStore``), so every process serves the same feed;
  clean-up deletes them once expired.
"""

from __future__ import annotations

import dataclasses
import re

from tokenpath.core.apis import client_apis
from tokenpath.core.client_auth import ClientAuthError, authenticate_client, read_credentials
from tokenpath.core.context import Context
from tokenpath.core.errors import InvalidRequest, OAuthError, UnauthorizedClient
from tokenpath.core.messages import NO_STORE, BackchannelRequest, JsonResponse
from tokenpath.core.params import parse_pairs
from tokenpath.core.records import AccessTokenRecord, RevocationEvent
from tokenpath.core.replies import error_reply

__all__ = [
    "PAGE_SIZE",
    "POLL_INTERVAL",
    "SETTLE",
    "record_grant_revocation",
    "record_token_revocation",
    "revocation_feed",
    "revoke_client_grants",
]

POLL_INTERVAL = 1
"""Seconds a validator waits between polls: the bound on how late it learns of a revocation."""
PAGE_SIZE = 1000
"""Entries per answer; a full page means more are waiting (poll again at once)."""
SETTLE = 2
"""Seconds after which an entry's write has surely committed: the cursor never passes a younger
one, so an entry whose id was handed out earlier but committed later is still read (it may then
come twice: an API keeps entries as a set)."""
_GRANT_BATCH = 500
_CURSOR = re.compile(r"0|[1-9][0-9]{0,17}")


async def record_token_revocation(ctx: Context, token: AccessTokenRecord, now: int) -> None:
    """A revoked JWT access token for a registered API: one entry until the token's ``exp``."""
    if token.token_hash is not None or now >= token.expires_at:
        return  # opaque tokens are introspected; an expired one needs no entry
    if await ctx.stores.apis.get(token.audience) is None:
        return
    event = RevocationEvent(
        audience=token.audience, jti=token.jti, expires_at=token.expires_at, created_at=now
    )
    await ctx.stores.revocation_feed.add([event])


async def record_grant_revocation(ctx: Context, grant_id: str, now: int) -> None:
    """A revoked grant: one entry for each API its tokens may be for."""
    grant = await ctx.stores.grants.get(grant_id)
    if grant is None:
        return
    client = await ctx.stores.clients.get(grant.client_id)
    listed = client_apis(client, ctx.policy.audience) if client is not None else ()
    events = []
    for identifier in dict.fromkeys((*grant.resources, *listed)):
        api = await ctx.stores.apis.get(identifier)
        if api is None:
            continue
        lifetime = api.access_token_lifetime or ctx.policy.access_token_lifetime
        events.append(
            RevocationEvent(
                audience=identifier, grant_id=grant_id, expires_at=now + lifetime, created_at=now
            )
        )
    if events:
        await ctx.stores.revocation_feed.add(events)


async def revoke_client_grants(ctx: Context, client_id: str) -> int:
    """Revoke every live grant of a client that is going away, each with its feed entries, so
    JWT-validating APIs refuse its users' tokens too; the number revoked. Call it before the
    client record is deleted (its APIs are read from it). Client-credentials tokens have no
    grant: they stay valid at JWT-validating APIs until they expire."""
    revoked = 0
    while batch := await ctx.stores.grants.list_live_by_client(client_id, _GRANT_BATCH):
        now = ctx.clock.now()
        for grant in batch:
            await ctx.stores.grants.revoke(grant.grant_id, now)
            await record_grant_revocation(ctx, grant.grant_id, now)
        revoked += len(batch)
        if len(batch) < _GRANT_BATCH:
            break
    return revoked


def _cursor(raw: str | None) -> int:
    if raw is None:
        return 0
    if not _CURSOR.fullmatch(raw):
        raise InvalidRequest("since must be a cursor from an earlier answer")
    return int(raw)


def _entry(event: RevocationEvent) -> dict[str, object]:
    if event.jti is not None:
        return {"jti": event.jti, "exp": event.expires_at}
    return {"grant_id": event.grant_id, "exp": event.expires_at}


async def revocation_feed(request: BackchannelRequest, *, ctx: Context) -> JsonResponse:
    """``GET /revocations``: ``request.form`` holds the query pairs."""
    try:
        if request.authorization is None:
            raise ClientAuthError(
                "authenticate with the API's credentials (HTTP Basic)", basic=True
            )
        credentials = read_credentials({}, request.authorization)
        client = await authenticate_client(credentials, ctx, address=request.address)
        api = await ctx.stores.apis.get_by_client(client.client_id)
        if api is None:
            reply = error_reply(UnauthorizedClient("these credentials are not an API's"))
            return dataclasses.replace(reply, status=403)
        query = parse_pairs(request.form, max_length=ctx.policy.max_param_length)
        after = _cursor(query.get("since"))
    except OAuthError as error:
        return error_reply(error)
    now = ctx.clock.now()
    events, cursor = await ctx.stores.revocation_feed.since(
        api.identifier, after, now, PAGE_SIZE, now - SETTLE
    )
    body = {
        "cursor": str(cursor),
        "revoked": [_entry(e) for e in events],
        "poll_interval": POLL_INTERVAL,
    }
    return JsonResponse(status=200, body=body, headers=NO_STORE)
