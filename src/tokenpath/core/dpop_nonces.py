"""Server-provided DPoP nonces (RFC 9449 §8, §9): a proof must carry a value only we could
have chosen, recently, so a client cannot mint proofs for later use.

Nonces are stateless and shared by every process without a table: a nonce is the HMAC-SHA256
of a time window's number under a secret every process derives alike (``Signer.derived_secrets``:
the secret is derived from the signing keys in the database, never stored on its own).

Invariants:

* The current window's nonce is the one handed out (``DPoP-Nonce`` on every token-endpoint
  answer while nonces are on); a proof is accepted with the current or the previous window's
  nonce, so a nonce lives between one and two windows and rotation never breaks a client that
  just fetched one.
* Every secret verifies, the first one issues: a key rotation seen by one process before the
  others still leaves each accepting what the others hand out.
* Comparison is constant-time (``hmac.compare_digest``).
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Sequence
from hashlib import sha256

__all__ = ["NONCE_PURPOSE", "DpopNonces"]

NONCE_PURPOSE = "dpop-nonce"
"""The label the nonce secret is derived under (domain separation from every other use)."""
_NONCE_BYTES = 16


class DpopNonces:
    """Nonces of ``window`` seconds under ``secrets`` (the first issues; all verify)."""

    def __init__(self, secrets: Sequence[bytes], window: int) -> None:
        if not secrets:
            raise ValueError("DPoP nonces need at least one secret")
        if window < 1:
            raise ValueError("the DPoP nonce window must be at least one second")
        self._secrets = tuple(secrets)
        self._window = window

    def _nonce(self, secret: bytes, window: int) -> str:
        mac = hmac.new(secret, f"{NONCE_PURPOSE}:{window}".encode(), sha256).digest()
        return base64.urlsafe_b64encode(mac[:_NONCE_BYTES]).rstrip(b"=").decode("ascii")

    def current(self, now: int) -> str:
        """The nonce to hand out at ``now``."""
        return self._nonce(self._secrets[0], now // self._window)

    def accepts(self, nonce: str | None, now: int) -> bool:
        """True for a nonce of the current or previous window under any secret."""
        if nonce is None or len(nonce) > 64:
            return False
        window = now // self._window
        presented = nonce.encode("ascii", "replace")
        return any(
            hmac.compare_digest(presented, self._nonce(secret, w).encode("ascii"))
            for secret in self._secrets
            for w in (window, window - 1)
        )
