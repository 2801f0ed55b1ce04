"""DPoP at the authorization server (RFC 9449 §5, §8, §10): which token requests must prove a
key, and how codes and refresh tokens stay bound to it.

Rules, in the order the token endpoint applies them (after client authentication):

* At most one ``DPoP`` header; a request without one is refused with ``invalid_dpop_proof`` when
  the client registered ``dpop_bound_access_tokens`` (§5.2) or the server requires DPoP of every
  client (``require_dpop``); otherwise it gets bearer tokens as before.
* The proof is checked by ``core.dpop`` for ``POST`` to our token endpoint as the issuer names it
  (never a URL taken from request headers), with the server's nonce when ``require_dpop_nonce``
  is on, and its ``jti`` is spent in the shared replay cache.
* A code issued with ``dpop_jkt`` (§10) is redeemed only with a proof by that key:
  ``invalid_grant`` otherwise, like any other mismatch between a code and its redemption.
* A public client's refresh tokens are bound to the key of the request that started the family,
  and every rotation keeps that key: a refresh with another key or none is ``invalid_grant``
  (§5). A confidential client's refresh tokens are not bound (§5: it authenticates anyway).
* Implicit-flow tokens are never bound: the authorization endpoint is reached by a redirect, and
  a redirect can carry no proof.
"""

from __future__ import annotations

from tokenpath.core.context import Context
from tokenpath.core.dpop import refuse_replay, single_proof, verify_proof
from tokenpath.core.dpop_nonces import NONCE_PURPOSE, DpopNonces
from tokenpath.core.errors import InvalidDpopProof, InvalidGrant
from tokenpath.core.records import AuthorizationCode, Client, RefreshTokenRecord

__all__ = [
    "check_code_key",
    "check_refresh_key",
    "nonce_headers",
    "proven_key",
    "refresh_key",
    "server_nonces",
    "token_request_key",
]


async def server_nonces(ctx: Context) -> DpopNonces | None:
    """The server's nonces, or None while ``require_dpop_nonce`` is off."""
    if not ctx.policy.require_dpop_nonce:
        return None
    secrets = await ctx.signer.derived_secrets(NONCE_PURPOSE)
    return DpopNonces(secrets, ctx.policy.dpop_nonce_window)


async def nonce_headers(ctx: Context) -> tuple[tuple[str, str], ...]:
    """``DPoP-Nonce`` with the current nonce (§8.2), for every token-endpoint answer."""
    nonces = await server_nonces(ctx)
    if nonces is None:
        return ()
    return (("DPoP-Nonce", nonces.current(ctx.clock.now())),)


async def token_request_key(proofs: tuple[str, ...], client: Client, ctx: Context) -> str | None:
    """The thumbprint of the key this token request proved, or None for a bearer request."""
    if not proofs and (client.dpop_bound_access_tokens or ctx.policy.require_dpop):
        raise InvalidDpopProof("a DPoP proof is required for this client")
    return await proven_key(proofs, ctx.policy.endpoint("/token"), ctx)


async def proven_key(proofs: tuple[str, ...], url: str, ctx: Context) -> str | None:
    """The thumbprint of the key a ``POST`` to our endpoint ``url`` proved (checked, nonce,
    replay), or None when it carries no proof: ``/token``, and ``/par`` (§10.1)."""
    proof = single_proof(proofs)
    if proof is None:
        return None
    now = ctx.clock.now()
    nonces = await server_nonces(ctx)
    max_age = ctx.policy.dpop_proof_max_age
    verified = verify_proof(
        proof,
        method="POST",
        url=url,
        now=now,
        nonce=None if nonces is None else (lambda nonce: nonces.accepts(nonce, now)),
        max_age=max_age,
    )
    await refuse_replay(verified, ctx.stores.replay, now=now, max_age=max_age)
    return verified.jkt


def check_code_key(code: AuthorizationCode, jkt: str | None) -> None:
    """§10: a code bound with ``dpop_jkt`` needs a proof by that very key."""
    if code.dpop_jkt is not None and code.dpop_jkt != jkt:
        raise InvalidGrant("the code is bound to another DPoP key")


def refresh_key(client: Client, jkt: str | None) -> str | None:
    """The key a new refresh-token family is bound to: the proof's, for public clients only."""
    return jkt if client.is_public else None


def check_refresh_key(record: RefreshTokenRecord, jkt: str | None) -> None:
    """§5: a bound refresh token is used only with a proof by its key."""
    if record.jkt is not None and record.jkt != jkt:
        raise InvalidGrant("the refresh token is bound to another DPoP key")
