"""Client authentication at the token endpoint (RFC 6749 §2.3, §3.2.1).

Methods: ``client_secret_basic`` (§2.3.1, credentials form-urlencoded before base64),
``client_secret_post`` (§2.3.1 body parameters; OAuth 2.1 makes it mandatory to support) and
``none`` for public clients, which identify themselves with ``client_id`` and must prove
possession another way (PKCE). A request may use only one method (§2.3).

Client secrets are 256-bit random values, so they are stored as salted SHA-256 rather than with a
slow password hash: a slow hash defends low-entropy secrets against offline guessing, which is
not a threat to 2^256 candidates, and would cost every token request tens of milliseconds.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import unquote_plus

from tokenpath.core.clock import TokenSource, constant_time_equals
from tokenpath.core.errors import InvalidClient, InvalidRequest
from tokenpath.core.messages import ClientCredentials
from tokenpath.core.ports import ClientStore
from tokenpath.core.records import Client

__all__ = [
    "AUTH_METHODS",
    "ClientAuthError",
    "authenticate_client",
    "hash_client_secret",
    "new_client_secret",
    "read_credentials",
    "verify_client_secret",
]

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
_SCHEME = "sha256"


class ClientAuthError(InvalidClient):
    """``invalid_client`` that remembers whether HTTP Basic was used (§5.2: 401 + challenge)."""

    def __init__(self, description: str, *, basic: bool, detail: str = "") -> None:
        super().__init__(description, detail=detail)
        self.basic = basic


def new_client_secret(random: TokenSource) -> str:
    return random.token(32)


def hash_client_secret(secret: str, *, salt: str) -> str:
    digest = hmac.new(salt.encode(), secret.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{_SCHEME}${salt}${digest}"


def verify_client_secret(secret: str, stored: str | None) -> bool:
    if stored is None:
        return False
    scheme, _, rest = stored.partition("$")
    salt, _, _digest = rest.partition("$")
    if scheme != _SCHEME or not salt:
        return False
    return constant_time_equals(hash_client_secret(secret, salt=salt), stored)


def _parse_basic(header: str) -> ClientCredentials:
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        raise ClientAuthError("unsupported Authorization scheme", basic=True)
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ClientAuthError("malformed Basic credentials", basic=True) from None
    raw_id, sep, raw_secret = decoded.partition(":")
    if not sep or not raw_id:
        raise ClientAuthError("malformed Basic credentials", basic=True)
    return ClientCredentials(
        client_id=unquote_plus(raw_id),
        client_secret=unquote_plus(raw_secret),
        method="client_secret_basic",
    )


def read_credentials(form: Mapping[str, str], authorization: str | None) -> ClientCredentials:
    """Which client is asking, and how it presented itself (not yet verified)."""
    if authorization is not None:
        if "client_secret" in form:
            raise InvalidRequest("use only one client authentication method")
        credentials = _parse_basic(authorization)
        if "client_id" in form and form["client_id"] != credentials.client_id:
            raise InvalidRequest("client_id does not match the Authorization header")
        return credentials
    client_id = form.get("client_id")
    if client_id is None:
        raise ClientAuthError("client authentication is required", basic=False)
    secret = form.get("client_secret")
    method = "none" if secret is None else "client_secret_post"
    return ClientCredentials(client_id=client_id, client_secret=secret, method=method)


async def authenticate_client(credentials: ClientCredentials, clients: ClientStore) -> Client:
    basic = credentials.method == "client_secret_basic"
    client = await clients.get(credentials.client_id)
    if client is None:
        raise ClientAuthError("client authentication failed", basic=basic, detail="unknown client")
    if client.is_public:
        if credentials.method != "none":
            raise ClientAuthError("public clients do not use a secret", basic=basic)
        return client
    if credentials.client_secret is None or not verify_client_secret(
        credentials.client_secret, client.secret_hash
    ):
        raise ClientAuthError("client authentication failed", basic=basic, detail="bad secret")
    return client
