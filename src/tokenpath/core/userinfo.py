"""The UserInfo endpoint (OpenID Connect Core 1.0 §5.3): the signed-in user's claims for a token.

A relying party presents the access token it got from an OpenID Connect authorization and reads
``sub`` plus the claims the granted scopes release. The rules, in the order they are applied:

1. The token travels in ``Authorization: Bearer`` (RFC 6750 §2.1) or, on POST, in the
   ``access_token`` form field (§2.2). Never in the URI query (§2.3): URLs reach logs, history and
   ``Referer`` (RFC 9700 §4.3.2; OAuth 2.1 drops the method), so a query token counts as no token
   and the 401 says why. A token sent more than one way, two ``Authorization`` headers or a
   malformed bearer value is 400 ``invalid_request`` (§2: "MUST NOT use more than one method").
2. No token: 401 with a bare ``Bearer realm`` challenge, no error code (§3.1).
3. The token is checked as introspection checks it (``core/token_lookup.py``): our own signed
   JWT or an opaque token by its hash; expired, revoked, or its grant revoked is 401
   ``invalid_token``. So is a refresh token, a client-credentials token (no user, §5.3: the
   endpoint returns claims *about the End-User*), and a token whose user or client is gone.
4. The token must carry ``openid`` (§5.3.1: it was obtained through an OpenID Connect request),
   else 403 ``insufficient_scope`` with ``scope="openid"`` (RFC 6750 §3.1).
5. The answer is ``sub`` as the client sees it (§8, ``core/subjects.py``) and the user's claims
   released by the token's scopes (§5.4, ``core/claims.py``), with ``Cache-Control: no-store``:
   it is personal data.

Every error carries its RFC 6750 §3 ``WWW-Authenticate`` challenge and the same code in a JSON
body. Nothing here logs or echoes a token.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenpath.core.bearer import QueryTokenRefused, header_token, quote
from tokenpath.core.claims import claims_for
from tokenpath.core.context import Context
from tokenpath.core.errors import InsufficientScope, InvalidRequest, InvalidToken, OAuthError
from tokenpath.core.messages import NO_STORE, JsonResponse
from tokenpath.core.params import parse_pairs
from tokenpath.core.records import AccessTokenRecord, GrantType
from tokenpath.core.subjects import subject_for
from tokenpath.core.token_lookup import find_token, is_active

__all__ = ["REALM", "QueryTokenRefused", "UserinfoRequest", "bearer_challenge", "userinfo"]

REALM = "tokenpath"
_NO_TOKEN = "this endpoint needs a bearer access token"


@dataclass(frozen=True, slots=True, kw_only=True)
class UserinfoRequest:
    """A request to ``/userinfo`` as the web layer read it, before any token is extracted."""

    authorization: tuple[str, ...] = ()
    """Every ``Authorization`` header, verbatim (more than one is refused)."""
    form: tuple[tuple[str, str], ...] = ()
    """The form body's pairs of a POST (RFC 6750 §2.2); empty for GET."""
    query_token: bool = False
    """Whether the URI query had an ``access_token`` (refused, never read)."""


def bearer_challenge(error: OAuthError | None, *, scope: str | None = None) -> JsonResponse:
    """The RFC 6750 §3 answer for ``error`` (None: the request had no token at all)."""
    params = [f'realm="{REALM}"']
    body: dict[str, object]
    if error is None:
        status, body = 401, {"error_description": _NO_TOKEN}
    else:
        status, body = error.status, dict(error.to_dict())
        params.append(f'error="{error.error}"')
        if error.description:
            params.append(f'error_description="{quote(error.description)}"')
    if scope:
        params.append(f'scope="{quote(scope)}"')
        body["scope"] = scope
    headers = (*NO_STORE, ("WWW-Authenticate", "Bearer " + ", ".join(params)))
    return JsonResponse(status=status, body=body, headers=headers)


def _presented(request: UserinfoRequest, ctx: Context) -> str | None:
    """The one token the request presents (None: none), or InvalidRequest (rule 1)."""
    if len(request.authorization) > 1:
        raise InvalidRequest("send one Authorization header")
    form = parse_pairs(request.form, max_length=ctx.policy.max_param_length)
    found: list[str] = []
    if request.authorization:
        token = header_token(request.authorization[0])
        if token is not None:
            found.append(token)
    if "access_token" in form:
        found.append(form["access_token"])
    if len(found) + request.query_token > 1:
        raise InvalidRequest("send the access token one way only")
    if request.query_token:
        raise QueryTokenRefused(
            "access tokens in the URI query are not accepted; use the Authorization header"
        )
    return found[0] if found else None


async def userinfo(request: UserinfoRequest, *, ctx: Context) -> JsonResponse:
    """Answer a UserInfo request (rules 1-5 of the module docstring)."""
    try:
        token = _presented(request, ctx)
    except InvalidRequest as error:
        return bearer_challenge(error)
    if token is None:
        return bearer_challenge(None)
    found = await find_token(token, "access_token", ctx)
    if (
        not isinstance(found, AccessTokenRecord)
        or found.grant_type is GrantType.CLIENT_CREDENTIALS
        or not await is_active(found, ctx)
    ):
        return bearer_challenge(InvalidToken("the access token is not active"))
    user = await ctx.stores.users.get(found.subject)
    client = await ctx.stores.clients.get(found.client_id)
    if user is None or client is None:
        return bearer_challenge(InvalidToken("the access token is not active"))
    if "openid" not in found.scope:
        return bearer_challenge(
            InsufficientScope("userinfo needs a token with the openid scope"), scope="openid"
        )
    body = {"sub": subject_for(user.user_id, client, ctx.policy), **claims_for(user, found.scope)}
    return JsonResponse(status=200, body=body, headers=NO_STORE)
