"""What the web app needs to know: who the authorization server is and who the app is to it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["WebappConfig"]


@dataclass(frozen=True, slots=True, kw_only=True)
class WebappConfig:
    issuer: str
    """Exact issuer identifier: discovery and the ``iss`` response parameter must match it."""
    client_id: str
    client_secret: str
    redirect_uri: str
    """This app's ``/callback``, exactly as registered."""
    api_base: str
    """Origin of the protected API (``/api/me`` and ``/api/notes`` are called below it)."""
    database_url: str
    """The app's own session store: ``sqlite+aiosqlite:///file`` or ``postgresql+asyncpg://``."""
    scopes: str = "openid profile notes:read"

    def __post_init__(self) -> None:
        for name in ("issuer", "redirect_uri", "api_base"):
            parts = urlsplit(getattr(self, name))
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"{name} must be an absolute http(s) URL")
        if urlsplit(self.redirect_uri).path != "/callback":
            raise ValueError("redirect_uri must be this app's /callback")

    @property
    def origin(self) -> str:
        parts = urlsplit(self.redirect_uri)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def post_logout_redirect_uri(self) -> str:
        """Where RP-Initiated Logout returns the browser; register it exactly (§3.1)."""
        return f"{self.origin}/signed-out"

    @property
    def backchannel_logout_uri(self) -> str:
        """Where the server POSTs logout tokens (Back-Channel Logout 1.0 §2.2); register it."""
        return f"{self.origin}/backchannel-logout"

    @property
    def wants_id_token(self) -> bool:
        return "openid" in self.scopes.split()

    def api_url(self, path: str) -> str:
        return f"{self.api_base.rstrip('/')}{path}"
