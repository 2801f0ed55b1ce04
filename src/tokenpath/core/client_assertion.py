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
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from tokenpath.core.context import Context
from tokenpath.core.records import Client

__all__ = ["ASSERTION_TYPE", "SIGNING_ALGS", "verify_client_assertion"]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SIGNING_ALGS = ("ES256", "RS256", "PS256", "EdDSA")
MAX_LIFETIME = 600
"""Assertions valid for longer than this are refused, which also bounds the replay cache."""


def _audience_ok(aud: Any, issuer: str) -> bool:
    """rfc7523bis: the issuer identifier is the sole audience (simple string comparison)."""
    if isinstance(aud, list):
        return len(aud) == 1 and aud[0] == issuer
    return isinstance(aud, str) and aud == issuer


def verify_client_assertion(
    assertion: str, client: Client, ctx: Context
) -> Mapping[str, Any] | str:
    """The verified claims, or a log-only reason why not (the caller answers ``invalid_client``)."""
    if client.token_endpoint_auth_method != "private_key_jwt" or not client.jwks:
        return "client is not registered for private_key_jwt"
    try:
        keys = KeySet.import_key_set(json.loads(client.jwks))
        token = jwt.decode(assertion, keys, algorithms=list(SIGNING_ALGS))
    except (JoseError, ValueError, TypeError) as error:
        return f"assertion signature invalid: {type(error).__name__}"
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
