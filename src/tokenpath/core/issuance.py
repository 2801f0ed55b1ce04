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

A token request that proved possession of a DPoP key (RFC 9449) gets a bound token: ``cnf.jkt``
in the JWT (§6.1), ``jkt`` in the stored record of an opaque one (introspection returns it as
``cnf``, §6.2), and ``token_type: DPoP`` (§5).

The token's ``aud`` is exactly the API it is for (RFC 8707, ``core/resources.py``), or the issuer
for a token good only at ``/userinfo``; the API's static claims and the operator's claims hook
are merged in by ``core/token_claims.py``, which never lets them replace a claim set here.

Every token-endpoint grant answers with a :class:`TokenResponse`, and :meth:`TokenResponse.body`
is the one place that renders it as the RFC 6749 §5.1 JSON body.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenpath.core.clock import hash_token
from tokenpath.core.context import Context
from tokenpath.core.params import format_scope
from tokenpath.core.records import AccessTokenRecord, Api, GrantType, RefreshTokenRecord
from tokenpath.core.token_claims import TokenFacts, merge_claims

__all__ = ["IssuedAccessToken", "TokenResponse", "issue_access_token", "issue_refresh_token"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenResponse:
    """A successful token response (RFC 6749 §5.1), as values until it is rendered."""

    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    scope: tuple[str, ...]
    refresh_token: str | None = None
    id_token: str | None = None
    """OpenID Connect Core §3.1.3.3, for a grant that authenticated a user."""
    issued_token_type: str | None = None
    """RFC 8693 §2.2.1, for token exchange."""

    def body(self) -> dict[str, object]:
        """The §5.1 JSON body; ``scope`` always, so no client has to infer what it was granted."""
        body: dict[str, object] = {
            "access_token": self.access_token,
            "token_type": self.token_type,
            "expires_in": self.expires_in,
            "scope": format_scope(self.scope),
        }
        optional = {
            "refresh_token": self.refresh_token,
            "id_token": self.id_token,
            "issued_token_type": self.issued_token_type,
        }
        body.update({name: value for name, value in optional.items() if value is not None})
        return body


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedAccessToken:
    token: str
    record: AccessTokenRecord

    @property
    def expires_in(self) -> int:
        return self.record.expires_at - self.record.issued_at

    def token_response(
        self, *, refresh_token: str | None = None, id_token: str | None = None
    ) -> TokenResponse:
        """This access token as a token-endpoint answer, with the refresh token and ID token
        (OIDC Core §3.1.3.3) minted alongside, if any."""
        return TokenResponse(
            access_token=self.token,
            token_type="DPoP" if self.record.jkt else "Bearer",
            expires_in=self.expires_in,
            scope=self.record.scope,
            refresh_token=refresh_token,
            id_token=id_token,
        )


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
    jkt: str | None = None,
    api: Api | None = None,
) -> IssuedAccessToken:
    """Sign a JWT for ``api`` (None: for ``/userinfo``), or for ``opaque`` mint and store a
    random string; ``jkt`` binds it to a DPoP key."""
    now = ctx.clock.now()
    opaque_token = ctx.random.token(32) if opaque else None
    record = AccessTokenRecord(
        jti=ctx.random.token(16),
        grant_id=grant_id,
        client_id=client_id,
        subject=subject,
        scope=scope,
        audience=api.identifier if api is not None else ctx.policy.issuer,
        grant_type=grant_type,
        issued_at=now,
        expires_at=now + lifetime,
        token_hash=hash_token(opaque_token) if opaque_token else None,
        jkt=jkt,
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
    facts = TokenFacts(
        api=api, client_id=client_id, subject=subject, scope=scope, grant_type=grant_type
    )
    claims = merge_claims(claims, facts, ctx.access_token_claims)
    if jkt is not None:
        claims["cnf"] = {"jkt": jkt}
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
    jkt: str | None = None,
) -> str:
    """A new opaque refresh token; a rotation passes the family's fixed absolute expiry, and
    ``jkt`` binds it to a public client's DPoP key (RFC 9449 §5)."""
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
            jkt=jkt,
        )
    )
    return token
