"""Signing: JWT access tokens (RFC 9068) and ID tokens (OIDC Core §2) with ES256 keys kept in
the key store.

The two kinds share keys, so the JOSE ``typ`` tells them apart: ``at+jwt`` for access tokens
(RFC 9068 §2.1), ``JWT`` for ID tokens (RFC 7519 §5.1). :meth:`Signer.verify` insists on the
``typ`` it is asked for, so an ID token is never accepted where an access token is expected
(RFC 9068 §4, RFC 8725 §3.11).

Invariants:

* The newest active key signs; every active key is published in the JWKS.
* Parsed keys are cached per ``kid``; the key list is re-read from the store at most every
  ``refresh_seconds``, so a key rotated by another process is picked up without a restart.
* Rotation is publish, then sign, then retire. A new key is in the JWKS at once but signs only
  once it is ``publish_ahead`` seconds old, so resource servers that cache the JWKS have it
  before they meet a token it signed. A superseded key stays published until every token it
  can have signed has expired (``retire_after`` seconds after it stopped signing), then it is
  retired and its tokens stop validating.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
from collections.abc import Mapping
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

from tokenpath.core.clock import Clock
from tokenpath.core.policy import Policy
from tokenpath.core.ports import KeyStore
from tokenpath.core.records import SigningKey

__all__ = [
    "ACCESS_TOKEN_TYP",
    "ID_TOKEN_TYP",
    "KEY_PUBLISH_AHEAD",
    "KEY_REFRESH_SECONDS",
    "Signer",
    "generate_signing_key",
    "key_retirement_delay",
    "retire_superseded",
    "rotate_signing_key",
]

ACCESS_TOKEN_TYP = "at+jwt"
"""RFC 9068 §2.1: the JOSE ``typ`` that tells access tokens from ID tokens."""

ID_TOKEN_TYP = "JWT"
"""RFC 7519 §5.1: the ``typ`` of ID tokens, the one every OpenID Connect client accepts."""

KEY_REFRESH_SECONDS = 60
"""How often a server process re-reads the key list, so a rotation reaches every process."""

KEY_PUBLISH_AHEAD = 6 * 60
"""A rotated key is in the JWKS this long before it signs: longer than every process's key
refresh plus the longest a resource server caches the JWKS (``JwksCache`` max age, 5 minutes)."""


def key_retirement_delay(policy: Policy) -> int:
    """How long a superseded key stays published: until every token it signed has expired.

    A process may go on signing with the old key for up to one key refresh after the rotation,
    and its tokens then live one access-token (or ID-token) lifetime; one more refresh is margin.
    """
    longest = max(
        policy.access_token_lifetime,
        policy.implicit_access_token_lifetime,
        policy.id_token_lifetime,
    )
    return longest + 2 * KEY_REFRESH_SECONDS


def generate_signing_key(now: int) -> SigningKey:
    """A fresh P-256 key for ES256; ``kid`` is its RFC 7638 thumbprint."""
    key = ECKey.generate_key("P-256", private=True)
    kid = key.thumbprint()
    private = dict(key.as_dict(private=True))
    private["kid"] = kid
    return SigningKey(kid=kid, alg="ES256", private_jwk=json.dumps(private), created_at=now)


async def rotate_signing_key(keys: KeyStore, now: int) -> SigningKey:
    """Add a key that is strictly newer than every active one, so it is the one that signs.

    ``created_at`` has one-second resolution; a rotation in the same second as the last key's
    creation is dated one second later rather than left to the ``kid`` tie-break.
    """
    active = list(await keys.list_active())
    newest = max((k.created_at for k in active), default=now - 1)
    key = generate_signing_key(max(now, newest + 1))
    await keys.add(key)
    return key


async def retire_superseded(
    keys: KeyStore, now: int, retire_after: int, *, publish_ahead: int = 0
) -> list[str]:
    """Retire every key that stopped signing more than ``retire_after`` seconds ago.

    A key stops signing when the next newer key starts: ``publish_ahead`` after its creation.
    """
    active = list(await keys.list_active())
    retired = []
    for newer, older in itertools.pairwise(active):
        if now >= newer.created_at + publish_ahead + retire_after:
            await keys.retire(older.kid, now)
            retired.append(older.kid)
    return retired


class Signer:
    def __init__(
        self,
        keys: KeyStore,
        clock: Clock,
        *,
        refresh_seconds: int = 60,
        retire_after: int | None = None,
        publish_ahead: int = 0,
    ) -> None:
        self._store = keys
        self._clock = clock
        self._refresh_seconds = refresh_seconds
        self._publish_ahead = publish_ahead
        self._retire_after = retire_after
        """None: never retire automatically (the operator runs ``tokenpath keys rotate``)."""
        self._loaded_at: int | None = None
        self._active: list[tuple[SigningKey, ECKey]] = []
        self._parsed: dict[str, ECKey] = {}
        self._derived: dict[tuple[str, str], bytes] = {}
        self._jwks: dict[str, list[dict[str, str]]] = {"keys": []}
        self._key_set = KeySet([])

    async def _keys(self) -> list[tuple[SigningKey, ECKey]]:
        now = self._clock.now()
        if self._loaded_at is None or now - self._loaded_at >= self._refresh_seconds:
            await self.reload()
        return self._active

    async def reload(self) -> None:
        """Re-read active keys, creating the first one if the store has none."""
        records = list(await self._store.list_active())
        retire_after = self._retire_after
        if len(records) > 1 and retire_after is not None:
            retired = await retire_superseded(
                self._store, self._clock.now(), retire_after, publish_ahead=self._publish_ahead
            )
            records = [r for r in records if r.kid not in retired]
        if not records:
            await self._store.add(generate_signing_key(self._clock.now()))
            records = list(await self._store.list_active())
        active = []
        for record in records:
            key = self._parsed.get(record.kid)
            if key is None:
                key = ECKey.import_key(json.loads(record.private_jwk))
                self._parsed[record.kid] = key
            active.append((record, key))
        self._active = active
        self._jwks = {"keys": [_public_jwk(record, key) for record, key in active]}
        self._key_set = KeySet([key for _, key in active])
        self._loaded_at = self._clock.now()

    def _signing_key(self, keys: list[tuple[SigningKey, ECKey]]) -> tuple[SigningKey, ECKey]:
        """The newest key published long enough; the oldest one while all are too new."""
        ripe_before = self._clock.now() - self._publish_ahead
        return next((k for k in keys if k[0].created_at <= ripe_before), keys[-1])

    async def sign(self, claims: Mapping[str, Any], *, typ: str = ACCESS_TOKEN_TYP) -> str:
        record, key = self._signing_key(await self._keys())
        header = {"alg": record.alg, "typ": typ, "kid": record.kid}
        return jwt.encode(header, dict(claims), key, algorithms=[record.alg])

    async def verify(self, token: str, *, typ: str = ACCESS_TOKEN_TYP) -> dict[str, Any] | None:
        """Claims of a token one of our active keys signed with the expected ``typ``, else None.

        Expiry is not checked here: callers compare ``exp`` with their own clock and records.
        """
        await self._keys()
        try:
            decoded = jwt.decode(token, self._key_set, algorithms=["ES256"])
        except (JoseError, ValueError, TypeError):
            return None
        if str(decoded.header.get("typ", "")).lower() != typ.lower():
            return None
        return dict(decoded.claims)

    async def derived_secrets(self, purpose: str) -> list[bytes]:
        """Per-purpose secrets every process derives alike from the active keys, the signing
        key's first: HMAC-SHA256 keyed with the private scalar, over the purpose label (a PRF
        as key derivation; a purpose's secret says nothing of the key or of other purposes).

        Used for what must be shared by processes yet needs no table, e.g. DPoP nonces."""
        keys = await self._keys()
        signing = self._signing_key(keys)
        ordered = [signing, *(k for k in keys if k is not signing)]
        secrets = []
        for record, key in ordered:
            cached = self._derived.get((record.kid, purpose))
            if cached is None:
                cached = self._derived[(record.kid, purpose)] = _derive(key, purpose)
            secrets.append(cached)
        return secrets

    async def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public JWK Set (RFC 7517 §5) of every active key, built once per key reload."""
        await self._keys()
        return self._jwks


def _derive(key: ECKey, purpose: str) -> bytes:
    scalar = str(key.as_dict(private=True)["d"])
    secret = base64.urlsafe_b64decode(scalar + "=" * (-len(scalar) % 4))
    return hmac.new(secret, f"tokenpath:{purpose}".encode(), hashlib.sha256).digest()


def _public_jwk(record: SigningKey, key: ECKey) -> dict[str, str]:
    public = {k: str(v) for k, v in key.as_dict(private=False).items()}
    public.update(kid=record.kid, alg=record.alg, use="sig")
    return public
