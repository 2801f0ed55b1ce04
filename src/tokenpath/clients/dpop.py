"""The client's half of DPoP (RFC 9449): a key pair, a proof per request, the server's nonce.

A DPoP-bound token is useless without the private key, so the key is what must not leak:

* by default a fresh key per run, held in process memory only (:meth:`ClientKey.generate`);
* or kept in the operating system's keyring (:func:`keyring_key`: macOS Keychain, Windows
  Credential Locker, the Secret Service on Linux), so a later run can refresh its bound tokens.
  That needs the optional ``keyring`` package: ``pip install 'tokenpath[keyring]'``.

Clients talk to servers only over HTTP: nothing here imports the server's code (the proof format
is written out from RFC 9449 §4.2, as any third-party client would).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey

__all__ = [
    "KEYRING_SERVICE",
    "ClientKey",
    "DpopUnavailable",
    "asks_for_nonce",
    "keyring_key",
    "send_with_proof",
]

KEYRING_SERVICE = "tokenpath-dpop"
"""The keyring service name keys are kept under (the entry is named per issuer and client)."""


class DpopUnavailable(Exception):
    """The chosen key store cannot be used; the message says what to install or change."""


class ClientKey:
    """One ES256 key pair and the proofs it signs; the private half never leaves this object
    except to the keyring, when that is where it is kept."""

    def __init__(self, key: ECKey) -> None:
        self._key = key

    @classmethod
    def generate(cls) -> ClientKey:
        return cls(ECKey.generate_key("P-256", private=True))

    @property
    def jkt(self) -> str:
        """RFC 7638 thumbprint: the ``dpop_jkt`` to send and the token's ``cnf.jkt``."""
        return str(self._key.thumbprint())

    def proof(
        self, method: str, url: str, *, access_token: str | None = None, nonce: str | None = None
    ) -> str:
        """A proof for one request (§4.2): ``htu`` without query or fragment; ``ath`` when a
        token goes with it; the server's ``nonce`` when it gave one."""
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self._key.as_dict(private=False)}
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(18),
            "htm": method,
            "htu": url.split("?", 1)[0].split("#", 1)[0],
            "iat": int(time.time()),
        }
        if access_token is not None:
            digest = hashlib.sha256(access_token.encode("ascii")).digest()
            claims["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        if nonce is not None:
            claims["nonce"] = nonce
        return jwt.encode(header, claims, self._key)

    def to_json(self) -> str:
        """The private JWK, for the keyring only."""
        return json.dumps(self._key.as_dict(private=True))

    @classmethod
    def from_json(cls, text: str) -> ClientKey:
        key = ECKey.import_key(json.loads(text))
        if not key.is_private:
            raise DpopUnavailable("the stored DPoP key has no private part")
        return cls(key)


def keyring_key(issuer: str, client_id: str) -> ClientKey:
    """The key kept in the OS keyring for this issuer and client, created on first use."""
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        raise DpopUnavailable(
            "keeping the DPoP key in the OS keyring needs the keyring package: "
            "pip install 'tokenpath[keyring]' (or use a fresh key per run)"
        ) from None
    name = f"{issuer} {client_id}"
    try:
        stored = keyring.get_password(KEYRING_SERVICE, name)
        if stored is not None:
            return ClientKey.from_json(stored)
        key = ClientKey.generate()
        keyring.set_password(KEYRING_SERVICE, name, key.to_json())
    except KeyringError as error:
        raise DpopUnavailable(f"the OS keyring cannot be used: {error}") from None
    return key


def asks_for_nonce(response: httpx.Response) -> bool:
    """Whether the server wants the proof again with its nonce (§8: 400 from the token
    endpoint, §9: 401 from a resource server), and gave one."""
    if "dpop-nonce" not in response.headers:
        return False
    if response.status_code == 401:
        return 'error="use_dpop_nonce"' in response.headers.get("www-authenticate", "")
    if response.status_code != 400:
        return False
    try:
        return bool(response.json().get("error") == "use_dpop_nonce")
    except ValueError:
        return False


def send_with_proof(
    key: ClientKey,
    nonces: dict[str, str],
    method: str,
    url: str,
    send: Callable[[dict[str, str]], httpx.Response],
    *,
    access_token: str | None = None,
) -> httpx.Response:
    """``send`` the request with a fresh proof (and ``Authorization: DPoP`` for a token),
    retried once with the nonce the server asks for; ``nonces`` remembers them per origin."""
    origin = httpx.URL(url).copy_with(path="/", query=None, fragment=None)
    where = str(origin)
    response = None
    for _ in range(2):
        proof = key.proof(method, url, access_token=access_token, nonce=nonces.get(where))
        headers = {"DPoP": proof}
        if access_token is not None:
            headers["Authorization"] = f"DPoP {access_token}"
        response = send(headers)
        retry = asks_for_nonce(response)
        if "dpop-nonce" in response.headers:
            nonces[where] = response.headers["dpop-nonce"]
        if not retry:
            break
    assert response is not None
    return response
