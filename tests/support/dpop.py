"""A DPoP client's half (RFC 9449 §4.2), written with joserfc alone: a key, and a proof per request.

Independent of ``tokenpath.core.dpop`` on purpose, so the server's checker is tested against
proofs it did not make.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from typing import Any

from joserfc import jws
from joserfc.jwk import ECKey, OKPKey, RSAKey

Key = ECKey | OKPKey | RSAKey

_ALG_KEYS: dict[str, Any] = {
    "ES256": lambda: ECKey.generate_key("P-256", private=True),
    "EdDSA": lambda: OKPKey.generate_key("Ed25519", private=True),
    "RS256": lambda: RSAKey.generate_key(2048, private=True),
    "PS256": lambda: RSAKey.generate_key(2048, private=True),
}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class Prover:
    """One client key making proofs; every proof field can be overridden to make it wrong."""

    def __init__(self, alg: str = "ES256", key: Key | None = None) -> None:
        self.alg = alg
        self.key: Key = key if key is not None else _ALG_KEYS[alg]()

    @property
    def jkt(self) -> str:
        """RFC 7638 thumbprint, computed here by hand (not by the library under test)."""
        public = self.public_jwk()
        members = {
            "EC": ("crv", "kty", "x", "y"),
            "OKP": ("crv", "kty", "x"),
            "RSA": ("e", "kty", "n"),
        }
        required = {k: public[k] for k in members[str(public["kty"])]}
        canonical = json.dumps(required, separators=(",", ":"), sort_keys=True)
        return b64(hashlib.sha256(canonical.encode()).digest())

    def public_jwk(self) -> dict[str, Any]:
        return dict(self.key.as_dict(private=False))

    def proof(
        self,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        nonce: str | None = None,
        iat: float | None = None,
        jti: str | None = None,
        header: dict[str, Any] | None = None,
        claims: dict[str, Any] | None = None,
        drop: tuple[str, ...] = (),
    ) -> str:
        protected: dict[str, Any] = {"typ": "dpop+jwt", "alg": self.alg, "jwk": self.public_jwk()}
        protected.update(header or {})
        payload: dict[str, Any] = {
            "jti": jti or uuid.uuid4().hex,
            "htm": method,
            "htu": url,
            "iat": int(time.time()) if iat is None else iat,
        }
        if access_token is not None:
            payload["ath"] = b64(hashlib.sha256(access_token.encode()).digest())
        if nonce is not None:
            payload["nonce"] = nonce
        payload.update(claims or {})
        for name in drop:
            payload.pop(name, None)
            protected.pop(name, None)
        body = json.dumps(payload).encode()
        return jws.serialize_compact(protected, body, self.key, algorithms=[protected["alg"]])
