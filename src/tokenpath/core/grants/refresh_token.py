"""The refresh token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2).

Invariants:

* Every use returns a new refresh token and marks the presented one used, in one atomic step
  (``RefreshTokenStore.use``): of two concurrent uses at most one succeeds.
* Presenting a used refresh token revokes its grant, and so its whole family: every refresh and
  access token descended from that authorization (docs/decisions/0002).
* A *losing* concurrent use is treated as reuse too. A benign double-submit (two tabs refreshing
  at once) cannot be told from theft at the server, so it costs the user a sign-in; a grace window
  would give a thief the same window. See docs/decisions/0004.
* A failure for a reason the presenter could fake (wrong client, widened scope) changes nothing.
* A public client's refresh token bound to a DPoP key (RFC 9449 §5) is used only with a proof by
  that key, checked before anything changes; its successor keeps the binding
  (``core.dpop_binding``).
* Scope may be narrowed (§6), never widened; the narrowed scope applies to the new tokens only.
* ``resource`` picks one of the APIs the grant was approved for (RFC 8707 §2.2), so one grant
  mints a token per API; the access token's scope is narrowed to that API (``core/resources.py``).
* While the new tokens' scope includes ``openid``, the answer carries a fresh ID token (OIDC Core
  §12.2): the same ``iss``, ``sub`` and ``aud``, a new ``iat``, the ``auth_time`` of the original
  sign-in, and no ``nonce`` (that belonged to the original authentication request).
"""

from __future__ import annotations

from collections.abc import Mapping

from tokenpath.core.clock import hash_token
from tokenpath.core.context import Context
from tokenpath.core.dpop_binding import check_refresh_key
from tokenpath.core.errors import InvalidGrant, InvalidScope
from tokenpath.core.events import EventName
from tokenpath.core.grants.replay import revoke_replayed
from tokenpath.core.id_tokens import issue_id_token
from tokenpath.core.issuance import TokenResponse, issue_access_token, issue_refresh_token
from tokenpath.core.params import parse_scope, require
from tokenpath.core.records import Client, GrantType, RefreshTokenRecord
from tokenpath.core.resources import grant_target

__all__ = ["refresh"]

_INVALID_TOKEN = "the refresh token is invalid"


def _check(record: RefreshTokenRecord, client: Client, now: int) -> None:
    if record.client_id != client.client_id:
        # the same words as an unknown token: a thief learns nothing about whose token it holds
        raise InvalidGrant(_INVALID_TOKEN, detail="the refresh token was issued to another client")
    if now >= record.expires_at or now >= record.idle_expires_at:
        raise InvalidGrant("the refresh token has expired")


def _narrowed(form: Mapping[str, str], granted: tuple[str, ...]) -> tuple[str, ...]:
    requested = parse_scope(form.get("scope"))
    if requested is None:
        return granted
    wider = [s for s in requested if s not in granted]
    if wider:
        raise InvalidScope(f"scope exceeds the original grant: {' '.join(wider)}")
    return requested


async def refresh(
    form: Mapping[str, str], client: Client, ctx: Context, jkt: str | None = None
) -> TokenResponse:
    token_hash = hash_token(require(form, "refresh_token"))
    now = ctx.clock.now()
    stores = ctx.stores
    record = await stores.refresh_tokens.get(token_hash)
    if record is None:
        raise InvalidGrant(_INVALID_TOKEN, detail="unknown refresh token")
    _check(record, client, now)
    check_refresh_key(record, jkt)
    scope = _narrowed(form, record.scope)
    approved = await stores.grants.get(record.grant_id)
    resources = approved.resources if approved is not None else ()
    requested = parse_scope(form.get("scope"))
    target = await grant_target(ctx, form.get("resource"), resources, record.scope, requested)
    if record.used_at is not None or await stores.refresh_tokens.use(token_hash, now) is None:
        await revoke_replayed(
            ctx,
            EventName.REFRESH_TOKEN_REUSED,
            grant_id=record.grant_id,
            client_id=client.client_id,
            user_id=record.user_id,
        )
        raise InvalidGrant("refresh token reused; the whole token family is revoked")
    grant = await stores.grants.get(record.grant_id)
    if grant is None or grant.revoked_at is not None:
        raise InvalidGrant("the authorization was revoked")
    new_refresh = await issue_refresh_token(
        ctx,
        grant_id=record.grant_id,
        client_id=record.client_id,
        user_id=record.user_id,
        scope=record.scope,
        family_expires_at=record.expires_at,
        jkt=record.jkt,
    )
    issued = await issue_access_token(
        ctx,
        grant_id=record.grant_id,
        client_id=client.client_id,
        subject=record.user_id,
        scope=target.scope,
        grant_type=GrantType.REFRESH_TOKEN,
        lifetime=target.lifetime(ctx.policy.access_token_lifetime),
        auth_time=grant.auth_time,
        opaque=target.opaque(client),
        api=target.api,
        jkt=jkt,
    )
    id_token = None
    if "openid" in scope:
        id_token = await issue_id_token(
            ctx,
            client=client,
            user_id=record.user_id,
            auth_time=grant.auth_time,
            sid=grant.sid,
            access_token=issued.token,
        )
    return issued.token_response(refresh_token=new_refresh, id_token=id_token)
