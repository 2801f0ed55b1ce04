"""DPoP proofs (RFC 9449 §4.2), made the way a client holding its own key makes them.

Used by the token-replay attack's defended mode: the victim's client binds its token to a key
pair only it holds; an attacker who copies the token has no proof to go with it, and a proof
signed with the attacker's own key names another key (RFC 9449 §7.1).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time

from joserfc import jwt
from joserfc.jwk import ECKey

__all__ = ["DpopKey"]


class DpopKey:
    """One client's DPoP key pair (ES256) and the proofs it signs."""

    def __init__(self) -> None:
        self._key = ECKey.generate_key("P-256")

    def proof(
        self, method: str, url: str, *, access_token: str | None = None, nonce: str | None = None
    ) -> str:
        header = {
            "typ": "dpop+jwt",
            "alg": "ES256",
            "jwk": self._key.as_dict(private=False),
        }
        claims: dict[str, object] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method,
            "htu": url,
            "iat": int(time.time()),
        }
        if nonce is not None:  # §8, §9: the server's nonce, when it asked for one
            claims["nonce"] = nonce
        if access_token is not None:  # §4.2: the hash of the token a resource request carries
            digest = hashlib.sha256(access_token.encode("ascii")).digest()
            claims["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        return jwt.encode(header, claims, self._key)
