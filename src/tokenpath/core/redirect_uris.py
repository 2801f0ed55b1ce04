"""Redirect URI rules: exact string matching, with the one RFC 8252 exception.

* RFC 9700 §4.1.3 / OAuth 2.1 §2.3.1: compare by simple string comparison (RFC 3986 §6.2.1).
* RFC 8252 §7.3: for a loopback IP redirect URI registered as ``http://127.0.0.1/...`` or
  ``http://[::1]/...`` the port may vary at request time; nothing else may.
* RFC 6749 §3.1.2: registered URIs are absolute and carry no fragment. RFC 9700 §2.6: ``http``
  only for loopback. ``localhost`` is not a loopback literal (RFC 8252 §8.3) and is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import SplitResult, urlsplit

from tokenpath.core.errors import OAuthError

__all__ = ["InvalidRedirectUri", "match_redirect_uri", "validate_registered_redirect_uri"]

_LOOPBACK_HOSTS = ("127.0.0.1", "::1")


class InvalidRedirectUri(OAuthError):
    """RFC 7591 §3.2.2 ``invalid_redirect_uri``."""

    error = "invalid_redirect_uri"


def _split(uri: str) -> SplitResult | None:
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return None
    return parts


def _is_loopback_http(parts: SplitResult) -> bool:
    return parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS


def _without_port(parts: SplitResult) -> str:
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return parts._replace(netloc=host).geturl()


def match_redirect_uri(requested: str, registered: Sequence[str]) -> bool:
    """True iff ``requested`` is one of ``registered`` under the rules above."""
    if requested in registered:
        return True
    parts = _split(requested)
    if parts is None or parts.scheme != "http" or parts.username or parts.password:
        return False
    if not _is_loopback_http(parts):
        return False
    for candidate in registered:
        cand = _split(candidate)
        if cand is None or cand.port is not None or not _is_loopback_http(cand):
            continue
        if _without_port(parts) == candidate:
            return True
    return False


def validate_registered_redirect_uri(uri: str, *, native: bool = False) -> str:
    """Check a redirect URI at registration: return it unchanged or raise ``invalid_redirect_uri``.

    ``native`` (public clients) also admits RFC 8252 §7.1 private-use schemes.
    """
    parts = _split(uri)
    if parts is None or not parts.scheme:
        raise InvalidRedirectUri("redirect URI must be an absolute URI")
    if "#" in uri:
        raise InvalidRedirectUri("redirect URI must not contain a fragment (RFC 6749 §3.1.2)")
    if "*" in uri:
        raise InvalidRedirectUri("wildcards are not allowed; URIs are matched exactly")
    if parts.username or parts.password:
        raise InvalidRedirectUri("redirect URI must not contain user information")
    if parts.scheme == "https":
        if not parts.hostname:
            raise InvalidRedirectUri("https redirect URI needs a host")
        return uri
    if parts.scheme == "http":
        if _is_loopback_http(parts):
            return uri
        raise InvalidRedirectUri("http redirect URIs are allowed only for 127.0.0.1 or [::1]")
    if native and "." in parts.scheme and not parts.netloc:
        # RFC 8252 §7.1 private-use scheme in reverse-domain form, e.g. com.example.app:/cb
        return uri
    raise InvalidRedirectUri(f"scheme {parts.scheme!r} is not allowed for redirect URIs")
