"""``private_key_jwt`` client authentication (RFC 7523 §2.2, §3; OpenID Connect Core §9).

The client signs a short-lived JWT with a key whose public half it registered; no shared secret
exists for the server to leak (RFC 9700 §2.5 recommends asymmetric client authentication).
Checks, in order: the client's registered method and keys, the signature (asymmetric algorithms
only), ``iss`` = ``sub`` = client id, ``aud`` exactly this server's issuer identifier, a bounded
``exp``, and a ``jti`` not seen before — remembered until the assertion expires, in shared storage
so every worker sees it.

Audience: RFC 7523 §3 let ``aud`` be "a value that identifies the authorization server", and in
practice servers accepted the token endpoint URL or any list containing one accepted value. That
is the 2025 audience-injection weakness: an assertion a client made for one server (or for an
attacker posing as one) is accepted by another. draft-ietf-oauth-rfc7523bis therefore requires
the issuer identifier as the *sole* audience value (a string; a single-member array is still
allowed), and servers MUST reject anything else — the token endpoint URL included.

Keys: the client's JWK Set is registered inline (``jwks``) or published at its ``jwks_uri``
(RFC 7591 §2), read through the context's :class:`~tokenpath.core.ports.KeySetSource`. When the
cached set has no key for the assertion's ``kid``, the client may have rotated its key: the set is
fetched again, once per request, and the source throttles fetches per URI (RFC 7517 §5 sets carry
several keys so that rotation needs no coordination).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import JWKRegistry, KeySet

from tokenpath.core.context import Context
from tokenpath.core.records import Client

__all__ = ["ASSERTION_TYPE", "SIGNING_ALGS", "public_signing_keys", "verify_client_assertion"]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SIGNING_ALGS = ("ES256", "RS256", "PS256", "EdDSA")
MAX_LIFETIME = 600
"""Assertions valid for longer than this are refused, which also bounds the replay cache."""
_UNKNOWN_KID = f"assertion signature invalid: {InvalidKeyIdError.__name__}"
"""No key of the set has the assertion's ``kid`` (or none was named and the set has several)."""


def _audience_ok(aud: Any, issuer: str) -> bool:
    """rfc7523bis: the issuer identifier is the sole audience (simple string comparison)."""
    if isinstance(aud, list):
        return len(aud) == 1 and aud[0] == issuer
    return isinstance(aud, str) and aud == issuer


async def verify_client_assertion(
    assertion: str, client: Client, ctx: Context
) -> Mapping[str, Any] | str:
    """The verified claims, or a log-only reason why not (the caller answers ``invalid_client``)."""
    if client.token_endpoint_auth_method != "private_key_jwt" or not (
        client.jwks or client.jwks_uri
    ):
        return "client is not registered for private_key_jwt"
    token = await _decode(assertion, client, ctx)
    if isinstance(token, str):
        return token
    claims = token.claims
    now = ctx.clock.now()
    exp = claims.get("exp")
    if claims.get("iss") != client.client_id or claims.get("sub") != client.client_id:
        return "iss and sub must be the client_id"
    if not _audience_ok(claims.get("aud"), ctx.policy.issuer):
        return "aud must be the issuer identifier, as the only audience"
    if not isinstance(exp, int) or exp <= now or exp > now + MAX_LIFETIME:
        return "exp missing, past, or too far ahead"
    if not isinstance(claims.get("jti"), str) or not claims["jti"]:
        return "jti is required"
    return claims


async def _decode(assertion: str, client: Client, ctx: Context) -> jwt.Token | str:
    """The signature-checked token; an unknown ``kid`` refetches a ``jwks_uri`` set once."""
    if client.jwks:
        return _verify(assertion, client.jwks)
    assert client.jwks_uri is not None  # verify_client_assertion checked one of them is set
    if ctx.key_sets is None:
        return "jwks_uri is registered but no key set source is configured"
    for refresh in (False, True):
        text = await ctx.key_sets.key_set(client.jwks_uri, refresh=refresh)
        if text is None:
            return "the client's jwks_uri key set is unavailable"
        result = _verify(assertion, text)
        if result != _UNKNOWN_KID:
            return result
    return "assertion kid not in the client's key set, even after a refetch"


def _verify(assertion: str, key_set: str) -> jwt.Token | str:
    try:
        keys = KeySet.import_key_set(json.loads(key_set))
        return jwt.decode(assertion, keys, algorithms=list(SIGNING_ALGS))
    except (JoseError, ValueError, TypeError) as error:
        return f"assertion signature invalid: {type(error).__name__}"


def public_signing_keys(document: object) -> tuple[str | None, int]:
    """A fetched JWK Set (RFC 7517 §5) reduced to its public signing keys, as JSON text.

    Returns the text (None when no key is left) and how many members were dropped: keys marked
    ``"use": "enc"``, unreadable ones, and private or symmetric ones — a published private key
    is compromised, so its public half is not trusted either.
    """
    members = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(members, list):
        return None, 0
    kept: list[dict[str, Any]] = []
    for member in members:
        if not isinstance(member, dict) or member.get("use", "sig") != "sig":
            continue
        try:
            key = JWKRegistry.import_key(member)
        except (JoseError, ValueError, TypeError, KeyError):
            continue
        if not key.is_private:
            kept.append(dict(key.as_dict(private=False)))
    dropped = len(members) - len(kept)
    return (json.dumps({"keys": kept}) if kept else None), dropped
