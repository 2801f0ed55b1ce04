"""OAuth errors as values, so no layer has to turn bad input into a 500.

Each registered error code (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1) is one subclass that
carries its wire ``error`` string and default HTTP status. ``description`` may reach the wire
(``error_description``, restricted to the RFC 6749 §5.2 character set); ``detail`` is for logs
only and never leaves the process.
"""

from __future__ import annotations

import re
from typing import ClassVar

__all__ = [
    "AccessDenied",
    "AccountSelectionRequired",
    "ConsentRequired",
    "InsufficientScope",
    "InvalidClient",
    "InvalidDpopProof",
    "InvalidGrant",
    "InvalidRequest",
    "InvalidRequestObject",
    "InvalidScope",
    "InvalidTarget",
    "InvalidToken",
    "LoginRequired",
    "OAuthError",
    "ServerError",
    "SlowDown",
    "TemporarilyUnavailable",
    "UnauthorizedClient",
    "UnsupportedGrantType",
    "UnsupportedResponseType",
    "UseDpopNonce",
]

# RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E (no '"' and no '\').
_UNSAFE_DESCRIPTION = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")


class OAuthError(Exception):
    """Base of every protocol error; ``error`` is the registered code."""

    error: ClassVar[str] = "server_error"
    status: ClassVar[int] = 400

    def __init__(self, description: str = "", *, detail: str = "") -> None:
        super().__init__(description or self.error)
        self.description = _UNSAFE_DESCRIPTION.sub("?", description)
        self.detail = detail

    @property
    def text(self) -> str:
        """The description as written, for a person at a terminal or an operator's API:
        ``description`` is its wire form, where RFC 6749 §5.2 allows printable ASCII only."""
        return str(self)

    def to_dict(self) -> dict[str, str]:
        """The JSON body of RFC 6749 §5.2 (or the redirect parameters of §4.1.2.1)."""
        body = {"error": self.error}
        if self.description:
            body["error_description"] = self.description
        return body

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.description!r})"


class InvalidRequest(OAuthError):
    error = "invalid_request"


class InvalidClient(OAuthError):
    """RFC 6749 §5.2: 401, with WWW-Authenticate when the client used HTTP auth."""

    error = "invalid_client"
    status = 401


class InvalidGrant(OAuthError):
    error = "invalid_grant"


class UnauthorizedClient(OAuthError):
    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class UnsupportedResponseType(OAuthError):
    error = "unsupported_response_type"


class InvalidScope(OAuthError):
    error = "invalid_scope"


class InvalidTarget(OAuthError):
    """RFC 8707 §2: the ``resource`` is unknown, malformed or not permitted for this client."""

    error = "invalid_target"


class AccessDenied(OAuthError):
    error = "access_denied"
    status = 403


class ServerError(OAuthError):
    error = "server_error"
    status = 500


class TemporarilyUnavailable(OAuthError):
    error = "temporarily_unavailable"
    status = 503


class LoginRequired(OAuthError):
    """OpenID Connect Core §3.1.2.6, for ``prompt=none``."""

    error = "login_required"


class ConsentRequired(OAuthError):
    """OpenID Connect Core §3.1.2.6, for ``prompt=none``."""

    error = "consent_required"


class AccountSelectionRequired(OAuthError):
    """OpenID Connect Core §3.1.2.6: the user would have to choose an account at the server."""

    error = "account_selection_required"


class InvalidRequestObject(OAuthError):
    error = "invalid_request_object"


class InvalidToken(OAuthError):
    """RFC 6750 §3.1, answered by resource servers with 401."""

    error = "invalid_token"
    status = 401


class InsufficientScope(OAuthError):
    """RFC 6750 §3.1, answered by resource servers with 403."""

    error = "insufficient_scope"
    status = 403


class InvalidDpopProof(OAuthError):
    """RFC 9449 §5, §7.1: the DPoP proof is missing where required, malformed or does not verify
    (400 at the token endpoint; resource servers answer 401 with a ``DPoP`` challenge)."""

    error = "invalid_dpop_proof"


class UseDpopNonce(OAuthError):
    """RFC 9449 §8, §9: send the proof again with the nonce in the ``DPoP-Nonce`` header."""

    error = "use_dpop_nonce"


class SlowDown(OAuthError):
    """Too many failed attempts: HTTP 429 (RFC 6585) with ``Retry-After``.

    OAuth registers no error code for throttling at the token endpoint, so the code stays the
    one the client would otherwise get (``invalid_client``); only the status tells it to wait.
    """

    error = "invalid_client"
    status = 429

    def __init__(self, description: str, *, retry_after: int) -> None:
        super().__init__(description)
        self.retry_after = retry_after
