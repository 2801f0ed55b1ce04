"""Time and randomness are injected, so expiry tests never sleep and tokens are testable.

The core never calls ``time.time()`` or ``secrets`` directly: it asks a :class:`Clock` and a
:class:`TokenSource`. Production uses :class:`SystemClock` and :class:`SecretsTokenSource`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Protocol

__all__ = [
    "Clock",
    "FixedClock",
    "SecretsTokenSource",
    "SystemClock",
    "TokenSource",
    "constant_time_equals",
    "hash_token",
]


class Clock(Protocol):
    def now(self) -> int:
        """Seconds since the epoch (NumericDate, RFC 7519 §2)."""
        ...


class SystemClock:
    def now(self) -> int:
        return int(time.time())


class FixedClock:
    """A clock tests move by hand."""

    def __init__(self, start: int = 1_700_000_000) -> None:
        self.current = start

    def now(self) -> int:
        return self.current

    def advance(self, seconds: int) -> None:
        self.current += seconds


class TokenSource(Protocol):
    def token(self, nbytes: int = 32) -> str:
        """A URL-safe random string carrying ``nbytes`` bytes of entropy."""
        ...


class SecretsTokenSource:
    def token(self, nbytes: int = 32) -> str:
        return secrets.token_urlsafe(nbytes)


def hash_token(value: str) -> str:
    """Hex SHA-256 of a high-entropy value (code, refresh token, session id).

    A plain hash is right here: the input carries ≥128 random bits, so there is nothing to
    brute-force and a slow hash would only cost latency. Passwords use argon2id instead.
    """
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def constant_time_equals(a: str, b: str) -> bool:
    """The one place secrets are compared (RFC 6819 §5.1.4.2.1 timing attacks)."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
