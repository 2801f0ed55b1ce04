"""Finding the record behind a presented token, for introspection and revocation.

A JWT access token (RFC 9068) is recognised by its shape and verified with our own active keys;
its record is rebuilt from the claims, unless a revocation stored it under its ``jti``. Opaque
access tokens and refresh tokens are looked up by their SHA-256.
``token_type_hint`` only orders the search (RFC 7009 §2.1, RFC 7662 §2.1): an unknown or wrong
hint never hides a token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tokenpath.core.clock import hash_token
from tokenpath.core.context import Context
from tokenpath.core.records import AccessTokenRecord, GrantType, RefreshTokenRecord

__all__ = ["Found", "find_token", "is_active"]

Found = AccessTokenRecord | RefreshTokenRecord


def _from_claims(claims: Mapping[str, Any]) -> AccessTokenRecord | None:
    """The record our own signed claims describe (None if they are not ours in shape)."""
    strings = ("jti", "client_id", "sub", "aud", "gty")
    if not all(isinstance(claims.get(k), str) for k in strings):
        return None
    if not all(type(claims.get(k)) is int for k in ("iat", "exp")):
        return None
    grant_id = claims.get("grant_id")
    scope = claims.get("scope", "")
    cnf = claims.get("cnf")
    jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
    try:
        grant_type = GrantType(claims["gty"])
    except ValueError:
        return None
    return AccessTokenRecord(
        jti=claims["jti"],
        grant_id=grant_id if isinstance(grant_id, str) else None,
        client_id=claims["client_id"],
        subject=claims["sub"],
        scope=tuple(scope.split()) if isinstance(scope, str) else (),
        audience=claims["aud"],
        grant_type=grant_type,
        issued_at=claims["iat"],
        expires_at=claims["exp"],
        jkt=jkt if isinstance(jkt, str) else None,
    )


async def _access_token(token: str, ctx: Context) -> AccessTokenRecord | None:
    if token.count(".") == 2:
        claims = await ctx.signer.verify(token)
        record = _from_claims(claims) if claims is not None else None
        if record is None:
            return None
        return await ctx.stores.tokens.get(record.jti) or record
    return await ctx.stores.tokens.get_by_hash(hash_token(token))


async def _refresh_token(token: str, ctx: Context) -> RefreshTokenRecord | None:
    if token.count(".") == 2:
        return None
    return await ctx.stores.refresh_tokens.get(hash_token(token))


async def find_token(token: str, hint: str | None, ctx: Context) -> Found | None:
    if hint == "refresh_token":
        return await _refresh_token(token, ctx) or await _access_token(token, ctx)
    return await _access_token(token, ctx) or await _refresh_token(token, ctx)


async def is_active(found: Found, ctx: Context) -> bool:
    """Unexpired, unrevoked, unused (refresh tokens), its grant unrevoked, its client registered
    (a deleted client's tokens die with it: RFC 7592 §2.3) and not disabled, and an access
    token's API still registered (a deleted API's tokens die with it; ``aud`` the issuer is
    ``/userinfo``'s)."""
    now = ctx.clock.now()
    if found.revoked_at is not None or now >= found.expires_at:
        return False
    if isinstance(found, RefreshTokenRecord) and (
        found.used_at is not None or now >= found.idle_expires_at
    ):
        return False
    client = await ctx.stores.clients.get(found.client_id)
    if client is None or client.disabled_at is not None:
        return False
    audience = found.audience if isinstance(found, AccessTokenRecord) else ctx.policy.issuer
    if audience != ctx.policy.issuer and await ctx.stores.apis.get(audience) is None:
        return False
    if found.grant_id is None:
        return True
    grant = await ctx.stores.grants.get(found.grant_id)
    return grant is not None and grant.revoked_at is None
