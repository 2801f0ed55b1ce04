"""Proof Key for Code Exchange (RFC 7636), S256 only.

RFC 9700 §2.1.1 and OAuth 2.1 §7.5.2 retire ``plain``: a challenge without a method defaults to
``plain`` (RFC 7636 §4.3), so a challenge must come with ``code_challenge_method=S256``.
"""

from __future__ import annotations

import base64
import hashlib
import re

from tokenpath.core.clock import constant_time_equals
from tokenpath.core.errors import InvalidGrant, InvalidRequest

__all__ = ["S256", "check_challenge", "s256", "verify"]

S256 = "S256"
# RFC 7636 §4.1: code_verifier = 43*128unreserved; §4.2: S256 challenge is 43 base64url chars.
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def check_challenge(challenge: str | None, method: str | None, *, required: bool) -> None:
    """Validate the authorization-request half (RFC 7636 §4.3)."""
    if challenge is None:
        if method is not None:
            raise InvalidRequest("code_challenge_method without code_challenge")
        if required:
            raise InvalidRequest("code_challenge (PKCE, S256) is required for this client")
        return
    if method != S256:
        raise InvalidRequest("code_challenge_method must be S256")
    if not _CHALLENGE.fullmatch(challenge):
        raise InvalidRequest("code_challenge must be 43 base64url characters")


def verify(verifier: str | None, challenge: str | None) -> None:
    """Validate the token-request half (RFC 7636 §4.6; RFC 9700 §4.8.2 downgrade rule)."""
    if challenge is None:
        if verifier is not None:
            raise InvalidGrant("code_verifier sent for a code issued without code_challenge")
        return
    if verifier is None:
        raise InvalidGrant("code_verifier is required")
    if not _VERIFIER.fullmatch(verifier):
        raise InvalidGrant("code_verifier must be 43-128 unreserved characters")
    if not constant_time_equals(s256(verifier), challenge):
        raise InvalidGrant("code_verifier does not match code_challenge")
