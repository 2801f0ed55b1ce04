"""The authorization code grant at the token endpoint (RFC 6749 §4.1.3-4.1.4).

Order matters (RFC 9700 §4.2.4, OAuth 2.1 §7.5.3):

1. The code must exist, belong to the authenticated client, match ``redirect_uri`` and PKCE,
   and be unexpired. A failure here changes nothing stored: a replay with bad parameters must
   not let an attacker revoke a victim's tokens.
2. Only a *valid* replay of an already-used code revokes the grant (and so every token issued
   from it).
3. ``consume`` is the atomic single-use step; losing that race is a replay too, so of N
   concurrent redemptions exactly one returns tokens and the others revoke them.
4. The token is for the API ``resource`` names among those the grant was approved for, or the
   first of them (RFC 8707 §2.2, ``core/resources.py``); a bad ``resource`` fails in step 1.
5. A code granted with the ``openid`` scope also yields an ID token (OIDC Core §3.1.3.3) carrying
   the code's ``nonce``, ``auth_time`` and session ``sid``, and the ``at_hash`` of the access
   token it comes with (§3.1.3.6).

Whether the client may use this grant at all is checked before the handler runs, from the grant's
row in ``core.grants.registry``.
"""

from __future__ import annotations

from collections.abc import Mapping

from tokenpath.core import pkce
from tokenpath.core.clock import hash_token
from tokenpath.core.context import Context
from tokenpath.core.dpop_binding import check_code_key, refresh_key
from tokenpath.core.errors import InvalidGrant
from tokenpath.core.events import EventName
from tokenpath.core.grants.replay import revoke_replayed
from tokenpath.core.id_tokens import issue_id_token
from tokenpath.core.issuance import TokenResponse, issue_access_token, issue_refresh_token
from tokenpath.core.params import require
from tokenpath.core.records import AuthorizationCode, Client, GrantType
from tokenpath.core.resources import grant_target

__all__ = ["exchange_code"]

_INVALID_CODE = "the authorization code is invalid"


def _check_binding(
    code: AuthorizationCode, client: Client, form: Mapping[str, str], now: int
) -> None:
    if code.client_id != client.client_id:
        # the same words as an unknown code: a thief learns nothing about whose code it holds
        raise InvalidGrant(_INVALID_CODE, detail="the code was issued to another client")
    redirect_uri = form.get("redirect_uri")
    if code.redirect_uri_in_request and redirect_uri is None:
        raise InvalidGrant("redirect_uri is required: it was sent in the authorization request")
    if redirect_uri is not None and redirect_uri != code.redirect_uri:
        raise InvalidGrant("redirect_uri does not match the authorization request")
    if client.is_public and code.code_challenge is None:
        raise InvalidGrant("public clients must use PKCE")
    pkce.verify(form.get("code_verifier"), code.code_challenge)
    if now >= code.expires_at:
        raise InvalidGrant("the code has expired")


async def exchange_code(
    form: Mapping[str, str], client: Client, ctx: Context, jkt: str | None = None
) -> TokenResponse:
    code_hash = hash_token(require(form, "code"))
    now = ctx.clock.now()
    code = await ctx.stores.codes.get(code_hash)
    if code is None:
        raise InvalidGrant(_INVALID_CODE, detail="unknown authorization code")
    _check_binding(code, client, form, now)
    check_code_key(code, jkt)
    grant = await ctx.stores.grants.get(code.grant_id)
    resources = grant.resources if grant is not None else ()
    target = await grant_target(ctx, form.get("resource"), resources, code.scope)
    if code.consumed_at is not None or await ctx.stores.codes.consume(code_hash, now) is None:
        await revoke_replayed(
            ctx,
            EventName.CODE_REPLAYED,
            grant_id=code.grant_id,
            client_id=client.client_id,
            user_id=code.user_id,
        )
        raise InvalidGrant("the code was already used; tokens issued from it are revoked")
    # The winner of ``consume`` always gets its tokens, even if a racing replay has already
    # revoked the grant: exactly one redemption succeeds, and its tokens are born inactive.
    issued = await issue_access_token(
        ctx,
        grant_id=code.grant_id,
        client_id=client.client_id,
        subject=code.user_id,
        scope=target.scope,
        grant_type=GrantType.AUTHORIZATION_CODE,
        lifetime=target.lifetime(ctx.policy.access_token_lifetime),
        auth_time=code.auth_time,
        opaque=target.opaque(client),
        api=target.api,
        jkt=jkt,
    )
    id_token = None
    if "openid" in code.scope:
        id_token = await issue_id_token(
            ctx,
            client=client,
            user_id=code.user_id,
            auth_time=code.auth_time,
            nonce=code.nonce,
            sid=code.sid,
            access_token=issued.token,
        )
    if GrantType.REFRESH_TOKEN not in client.grant_types:
        return issued.token_response(id_token=id_token)
    refresh_token = await issue_refresh_token(
        ctx,
        grant_id=code.grant_id,
        client_id=client.client_id,
        user_id=code.user_id,
        scope=code.scope,
        jkt=refresh_key(client, jkt),
    )
    return issued.token_response(refresh_token=refresh_token, id_token=id_token)
