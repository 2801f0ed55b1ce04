"""The web app's own checks of the JWTs the authorization server sends it: ID tokens and logout
tokens. The app trusts nothing it has not verified, and imports nothing of the server.

ID token (OpenID Connect Core §3.1.3.7), in order: JWS signature by a key of the issuer's JWKS
(ES256 only: ``alg`` is never taken from the token); JOSE ``typ`` absent or ``JWT``; ``iss`` is
exactly the configured issuer; ``aud`` contains our ``client_id`` (and ``azp`` is us when there
are several audiences); ``exp`` is in the future and ``iat`` not in it (:data:`LEEWAY` seconds of
clock skew); ``nonce`` equals the one this browser's sign-in stored (replay, §15.5.2);
``at_hash`` matches the access token it came with (§3.1.3.6, §3.2.2.9).

Logout token (Back-Channel Logout 1.0 §2.6): signature as above; ``typ`` ``logout+jwt``; ``iss``,
``aud``; ``iat`` present and not in the future, ``exp`` not passed; ``events`` holds the
back-channel logout member; ``sid`` or ``sub`` present; no ``nonce`` (so an ID token can never
pass for a logout token); ``jti`` present (the caller makes sure it is used once).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from tokenpath.clients.webapp.guards import same

__all__ = [
    "BACKCHANNEL_EVENT",
    "LEEWAY",
    "LogoutClaims",
    "TokenRejected",
    "check_id_token",
    "check_logout_token",
    "half_hash",
]

LEEWAY = 60
"""Seconds of clock difference tolerated between the app and the authorization server."""
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"


class TokenRejected(Exception):
    """The token failed a check; the message names which (it never contains the token)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LogoutClaims:
    jti: str
    exp: int
    sid: str | None
    sub: str | None


def half_hash(value: str) -> str:
    """OIDC Core §3.1.3.6: base64url of the left half of SHA-256 of the ASCII value (ES256)."""
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")


def _decode(token: str, keys: KeySet, typ: str | None) -> Mapping[str, Any]:
    try:
        decoded = jwt.decode(token, keys, algorithms=["ES256"])
    except (JoseError, ValueError, TypeError) as error:
        raise TokenRejected(f"signature not verified ({type(error).__name__})") from error
    header_typ = decoded.header.get("typ")
    if typ is None:
        if header_typ is not None and str(header_typ).lower() != "jwt":
            raise TokenRejected(f"unexpected typ {header_typ!r}")
    elif str(header_typ).lower() != typ:
        raise TokenRejected(f"typ must be {typ}")
    return decoded.claims


def _audience(claims: Mapping[str, Any], issuer: str, client_id: str) -> None:
    if claims.get("iss") != issuer:
        raise TokenRejected("iss is not the configured issuer")
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if client_id not in audiences:
        raise TokenRejected("aud does not name this client")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise TokenRejected("azp does not name this client")


def _number(claims: Mapping[str, Any], name: str) -> int:
    value = claims.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise TokenRejected(f"{name} is missing or not a number")
    return value


def check_id_token(
    token: str,
    *,
    keys: KeySet,
    issuer: str,
    client_id: str,
    nonce: str,
    access_token: str | None,
    now: int,
) -> dict[str, Any]:
    """The claims of a valid ID token, or :class:`TokenRejected` (checks in the docstring)."""
    claims = _decode(token, keys, None)
    _audience(claims, issuer, client_id)
    if _number(claims, "exp") <= now - LEEWAY:
        raise TokenRejected("the ID token has expired")
    if _number(claims, "iat") > now + LEEWAY:
        raise TokenRejected("the ID token was issued in the future")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise TokenRejected("sub is missing")
    got = claims.get("nonce")
    if not isinstance(got, str) or not same(got, nonce):
        raise TokenRejected("nonce is not the one this sign-in sent")
    at_hash = claims.get("at_hash")
    if at_hash is not None and (
        access_token is None or not isinstance(at_hash, str) or at_hash != half_hash(access_token)
    ):
        raise TokenRejected("at_hash does not match the access token")
    return dict(claims)


def check_logout_token(
    token: str, *, keys: KeySet, issuer: str, client_id: str, now: int
) -> LogoutClaims:
    """A valid logout token's facts, or :class:`TokenRejected` (checks in the docstring)."""
    claims = _decode(token, keys, "logout+jwt")
    _audience(claims, issuer, client_id)
    if _number(claims, "iat") > now + LEEWAY:
        raise TokenRejected("the logout token was issued in the future")
    exp = _number(claims, "exp")
    if exp <= now - LEEWAY:
        raise TokenRejected("the logout token has expired")
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_EVENT), dict):
        raise TokenRejected("events does not hold the back-channel logout event")
    if "nonce" in claims:
        raise TokenRejected("a logout token must not carry a nonce")
    sid, sub, jti = claims.get("sid"), claims.get("sub"), claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise TokenRejected("jti is missing")
    sid = sid if isinstance(sid, str) and sid else None
    sub = sub if isinstance(sub, str) and sub else None
    if sid is None and sub is None:
        raise TokenRejected("neither sid nor sub is present")
    return LogoutClaims(jti=jti, exp=exp, sid=sid, sub=sub)
