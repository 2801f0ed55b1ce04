"""Minting access tokens: one function, so every grant issues the same RFC 9068 shape.

Claims (RFC 9068 §2.2): ``iss``, ``sub``, ``aud``, ``client_id``, ``scope``, ``iat``, ``exp``,
``jti``, plus ``auth_time`` for user grants and ``gty`` (the grant type) so resource servers and
the flow lab can tell an implicit token from a code-flow one, and a client-credentials token from
a user's (RFC 9700 §4.15).
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenpath.core.context import Context
from tokenpath.core.params import format_scope
from tokenpath.core.records import AccessTokenRecord, GrantType

__all__ = ["IssuedAccessToken", "issue_access_token"]


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedAccessToken:
    token: str
    record: AccessTokenRecord

    @property
    def expires_in(self) -> int:
        return self.record.expires_at - self.record.issued_at


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
) -> IssuedAccessToken:
    now = ctx.clock.now()
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
    )
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
    token = await ctx.signer.sign(claims)
    await ctx.stores.tokens.add(record)
    return IssuedAccessToken(token=token, record=record)
