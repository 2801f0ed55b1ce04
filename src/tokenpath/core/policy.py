"""Server policy as data: secure defaults from RFC 9700, weakened only by named ``allow_*`` options.

The web layer and the CLI build one :class:`Policy` from settings at start-up; the core reads it
and never consults the environment itself.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_SCOPES", "Policy"]

DEFAULT_SCOPES: tuple[str, ...] = ("openid", "profile", "email", "notes:read", "notes:write")


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    issuer: str
    """Exact issuer identifier (RFC 8414 §2): the ``iss`` of tokens and authorization responses."""
    audience: str
    """Default ``aud`` of access tokens (RFC 9068 §3): the protected API's identifier."""
    code_lifetime: int = 60
    """RFC 9700 §4.2.4 / RFC 6749 §4.1.2: short-lived; never above 600 s."""
    access_token_lifetime: int = 600
    implicit_access_token_lifetime: int = 300
    session_lifetime: int = 8 * 3600
    refresh_token_lifetime: int = 30 * 24 * 3600
    """Absolute lifetime of a refresh-token family; rotation never extends it."""
    refresh_token_idle_lifetime: int = 7 * 24 * 3600
    """A refresh token unused this long dies (RFC 9700 §4.14.2)."""
    login_failures_per_minute: int = 10
    """Failed sign-ins per username per minute before sign-in is refused (catalog A20)."""
    client_auth_failures_per_minute: int = 50
    """Failed client authentications per client id per minute before 429 (catalog A20)."""
    allow_implicit: bool = False
    """OAuth 2.1 omits the implicit grant; RFC 9700 §2.1.2 says SHOULD NOT. Off unless asked for."""
    require_pkce_for_confidential: bool = False
    """OAuth 2.1 mode: PKCE for every client, not only public ones."""
    scopes_supported: tuple[str, ...] = DEFAULT_SCOPES
    max_param_length: int = 2048
    """Longest single request parameter we accept; longer input is ``invalid_request``."""

    def __post_init__(self) -> None:
        if not 1 <= self.code_lifetime <= 600:
            raise ValueError("code_lifetime must be between 1 and 600 seconds (RFC 6749 §4.1.2)")
        if self.access_token_lifetime < 1 or self.implicit_access_token_lifetime < 1:
            raise ValueError("token lifetimes must be positive")
        if self.issuer.endswith("/") or "?" in self.issuer or "#" in self.issuer:
            raise ValueError("issuer must have no trailing slash, query or fragment (RFC 8414 §2)")

    def endpoint(self, path: str) -> str:
        """Absolute URL of one of our endpoints, derived only from the configured issuer."""
        return f"{self.issuer}{path}"
