"""Minting access tokens: one function, so every grant issues the same RFC 9068 shape.

Claims (RFC 9068 §2.2): ``iss``, ``sub``, ``aud``, ``client_id``, ``scope``, ``iat``, ``exp``,
``jti``, plus ``auth_time`` for user grants and ``gty`` (the grant type) so resource servers and
the flow lab can tell an implicit token from a code-flow one, and a client-credentials token from
a user's (RFC 9700 §4.15). Tokens of a user's grant also carry ``grant_id``: the revocation unit
(docs/decisions/0002) that introspection checks.

A JWT access token is self-contained and is not stored: issuing one writes nothing, and
introspection rebuilds its record from the verified claims. Only a revoked JWT is written down
(until it expires), so revocation costs a row and issuing costs none (docs/decisions/0005).
Opaque access tokens are random strings and are stored, as SHA-256, at issue.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenpath.core.clock import hash_token
from tokenpath.core.context import Context
from tokenpath.core.params import format_scope
from tokenpath.core.records import AccessTokenRecord, GrantType, RefreshTokenRecord

__all__ = ["IssuedAccessToken", "issue_access_token", "issue_refresh_token"]


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedAccessToken:
    token: str
    record: AccessTokenRecord

    @property
    def expires_in(self) -> int:
        return self.record.expires_at - self.record.issued_at

    def response(self, **extra: object) -> dict[str, object]:
        """The RFC 6749 §5.1 success body for this token (``extra``: e.g. ``refresh_token``)."""
        return {
            "access_token": self.token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": format_scope(self.record.scope),
            **extra,
        }


async def issue_access_token(
    ctx: Context,
    *,
    grant_id: str | None,
    client_id: str,
    subject: str,
    scope: tuple[str, ...],
    grant_type: GrantType,
    lifetime: int,
    auth_time: int | None = None,
    opaque: bool = False,
) -> IssuedAccessToken:
    """Sign a JWT, or for ``opaque`` mint and store a random string."""
    now = ctx.clock.now()
    opaque_token = ctx.random.token(32) if opaque else None
    record = AccessTokenRecord(
        jti=ctx.random.token(16),
        grant_id=grant_id,
        client_id=client_id,
        subject=subject,
        scope=scope,
        audience=ctx.policy.audience,
        grant_type=grant_type,
        issued_at=now,
        expires_at=now + lifetime,
        token_hash=hash_token(opaque_token) if opaque_token else None,
    )
    if opaque_token is not None:
        await ctx.stores.tokens.add(record)
        return IssuedAccessToken(token=opaque_token, record=record)
    claims: dict[str, object] = {
        "iss": ctx.policy.issuer,
        "sub": subject,
        "aud": record.audience,
        "client_id": client_id,
        "scope": format_scope(scope),
        "iat": now,
        "exp": record.expires_at,
        "jti": record.jti,
        "gty": grant_type.value,
    }
    if auth_time is not None:
        claims["auth_time"] = auth_time
    if grant_id is not None:
        claims["grant_id"] = grant_id
    token = await ctx.signer.sign(claims)
    return IssuedAccessToken(token=token, record=record)


async def issue_refresh_token(
    ctx: Context,
    *,
    grant_id: str,
    client_id: str,
    user_id: str,
    scope: tuple[str, ...],
    family_expires_at: int | None = None,
) -> str:
    """A new opaque refresh token; a rotation passes the family's fixed absolute expiry."""
    now = ctx.clock.now()
    token = ctx.random.token(32)
    await ctx.stores.refresh_tokens.add(
        RefreshTokenRecord(
            token_hash=hash_token(token),
            grant_id=grant_id,
            client_id=client_id,
            user_id=user_id,
            scope=scope,
            issued_at=now,
            expires_at=family_expires_at or now + ctx.policy.refresh_token_lifetime,
            idle_expires_at=now + ctx.policy.refresh_token_idle_lifetime,
        )
    )
    return token
