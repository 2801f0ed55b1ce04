"""What a client registers for authenticating at the token endpoint (RFC 7591 §2).

Why apart from ``core/registration.py``: these rules are about credentials, not flows. A
confidential client uses ``client_secret_basic`` (the default), ``client_secret_post`` or
``private_key_jwt`` (RFC 7523) with its public keys inline (``jwks``) or by reference
(``jwks_uri``), never both (RFC 7591 §2); a public client uses ``none``. URIs the server itself
calls (``jwks_uri``, Back-Channel Logout 1.0 §2.2 ``backchannel_logout_uri``) are https, or
http on a loopback literal only, like redirect URIs (RFC 9700 §2.6).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from tokenpath.core.client_auth import AUTH_METHODS
from tokenpath.core.errors import OAuthError
from tokenpath.core.records import ClientType

__all__ = [
    "MAX_JWKS_URI",
    "ClientAuthentication",
    "InvalidClientMetadata",
    "check_auth",
    "check_server_uri",
]


class InvalidClientMetadata(OAuthError):
    """RFC 7591 §3.2.2 ``invalid_client_metadata``."""

    error = "invalid_client_metadata"


MAX_JWKS_URI = 2000
_LOOPBACK_HOSTS = ("127.0.0.1", "::1")


@dataclass(frozen=True, slots=True)
class ClientAuthentication:
    """The validated token endpoint authentication of a client (RFC 7591 §2)."""

    method: str
    jwks: str | None = None
    jwks_uri: str | None = None


def check_server_uri(uri: str, name: str = "jwks_uri") -> str:
    """An absolute https URI without fragment; http only on a loopback host (as redirect URIs).

    The server calls it (``jwks_uri``: fetches the client's keys; ``backchannel_logout_uri``:
    posts logout tokens), so a plain-http URI on the network would let anyone on the path
    substitute the client's keys or read what is sent.
    """
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InvalidClientMetadata(f"{name} must be an absolute https URI") from None
    if len(uri) > MAX_JWKS_URI or not parts.hostname or parts.username or parts.password:
        raise InvalidClientMetadata(f"{name} must be an absolute https URI")
    if "#" in uri:
        raise InvalidClientMetadata(f"{name} must not contain a fragment")
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS):
        return uri
    raise InvalidClientMetadata(f"{name} must use https (http only for 127.0.0.1 or [::1])")


def _check_jwks(jwks: str) -> str:
    try:
        key_set = KeySet.import_key_set(json.loads(jwks))
    except (ValueError, TypeError, JoseError):
        raise InvalidClientMetadata("jwks must be a JSON JWK Set of public keys") from None
    if not key_set.keys or any(key.is_private for key in key_set.keys):
        raise InvalidClientMetadata("jwks must hold public keys only")
    return json.dumps(key_set.as_dict(private=False))


def check_auth(
    client_type: ClientType, method: str | None, jwks: str | None, jwks_uri: str | None = None
) -> ClientAuthentication:
    """The token endpoint auth method (RFC 7591 §2) and, for private_key_jwt, the keys."""
    if client_type is ClientType.PUBLIC:
        if method not in (None, "none") or jwks or jwks_uri:
            raise InvalidClientMetadata("public clients authenticate with none")
        return ClientAuthentication("none")
    method = method or ("private_key_jwt" if jwks or jwks_uri else "client_secret_basic")
    if method not in AUTH_METHODS or method == "none":
        raise InvalidClientMetadata(f"unsupported token_endpoint_auth_method {method!r}")
    if method != "private_key_jwt":
        if jwks or jwks_uri:
            raise InvalidClientMetadata("jwks and jwks_uri are only used with private_key_jwt")
        return ClientAuthentication(method)
    if jwks and jwks_uri:
        raise InvalidClientMetadata("give jwks or jwks_uri, not both (RFC 7591 §2)")
    if jwks_uri:
        return ClientAuthentication(method, jwks_uri=check_server_uri(jwks_uri))
    if not jwks:
        raise InvalidClientMetadata("private_key_jwt needs the client's jwks or jwks_uri")
    return ClientAuthentication(method, jwks=_check_jwks(jwks))
