"""Signing keys encrypted at rest: whoever reads the database must not be able to mint tokens.

A private signing key is the one secret every resource server trusts, so the table that holds it
must not hold it in clear (RFC 6819 §5.1.4.1.3: credentials encrypted at rest; a leaked key
forges RFC 9068 access tokens for any user). Each ``private_jwk`` is wrapped with a
key-encryption key (KEK) that lives outside the database, in the server's environment.

Invariants:

* The stored text describes itself: ``enc:v1:<kek-id>:<nonce+ciphertext, base64url>``. The
  ``kek-id`` is a short fingerprint of the KEK, so a missing or wrong KEK is named in the error
  instead of surfacing as a JSON or signature failure somewhere else.
* AES-256-GCM (``cryptography``'s AEAD, a random 96-bit nonce per wrap) with the ``kid`` as
  associated data: a wrapped key copied onto another row does not decrypt there.
* A KEK value is the url-safe base64 of 32 random bytes, as ``Fernet.generate_key()`` and
  :func:`generate_kek` print. Several may be given, comma-separated: the first wraps new keys,
  every one unwraps (rotation without downtime: ``new,old`` everywhere, then rewrap, then ``new``).
* Without a KEK, plain-text rows load as before (the upgrade path) and new keys are stored in
  clear; with one, a plain-text row is refused, since a row nobody wrapped may have been written
  by someone who can write the table but cannot read the KEK. ``upgrade(url,
  key_encryption_key=...)`` wraps existing plain-text rows before the server reads them.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tokenpath.core.ports import KeyStore
from tokenpath.core.records import SigningKey

__all__ = [
    "ENV_VAR",
    "EncryptedKeyStore",
    "KeyEncryptionError",
    "KeyEncryptionKey",
    "Rewrite",
    "generate_kek",
    "is_wrapped",
    "load_keks",
    "parse_keks",
    "plan_rewrap",
    "unwrap",
    "wrap",
    "wrapped_with",
]

ENV_VAR = "TOKENPATH_KEY_ENCRYPTION_KEY"
PREFIX = "enc:v1:"
_NONCE_BYTES = 12  # NIST SP 800-38D §8.2.2: random 96-bit nonces
_KEK_BYTES = 32
_ID_LENGTH = 12  # hex characters of the fingerprint: names a KEK, reveals nothing about it


class KeyEncryptionError(ValueError):
    """A key-encryption key is malformed, missing or wrong (the message says which and why)."""


@dataclass(frozen=True, slots=True)
class KeyEncryptionKey:
    """One KEK: its fingerprint ``id`` and the AEAD it keys (never printed: ``repr`` omits it)."""

    id: str
    _aead: AESGCM = dataclasses.field(repr=False, compare=False)

    @classmethod
    def parse(cls, value: str) -> KeyEncryptionKey:
        text = value.strip()
        try:
            raw = base64.urlsafe_b64decode(text.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raw = b""
        if len(raw) != _KEK_BYTES:
            raise KeyEncryptionError(
                f"{ENV_VAR} must be the url-safe base64 of {_KEK_BYTES} random bytes "
                "(Fernet.generate_key() prints one)"
            )
        fingerprint = hashlib.sha256(b"tokenpath kek id\x00" + raw).hexdigest()[:_ID_LENGTH]
        return cls(id=fingerprint, _aead=AESGCM(raw))


def generate_kek() -> str:
    """A fresh KEK in the form ``TOKENPATH_KEY_ENCRYPTION_KEY`` takes."""
    return base64.urlsafe_b64encode(os.urandom(_KEK_BYTES)).decode("ascii")


def parse_keks(value: str) -> tuple[KeyEncryptionKey, ...]:
    """Comma- or whitespace-separated KEKs, the wrapping one first; ``""`` gives ``()``."""
    keks = tuple(KeyEncryptionKey.parse(part) for part in re.split(r"[\s,]+", value) if part)
    ids = [k.id for k in keks]
    if len(set(ids)) != len(ids):
        raise KeyEncryptionError(f"{ENV_VAR} lists the same key-encryption key twice")
    return keks


def load_keks(value: str = "", file: Path | None = None) -> tuple[KeyEncryptionKey, ...]:
    """The KEKs of ``TOKENPATH_KEY_ENCRYPTION_KEY`` or, read here, ``..._FILE`` (not both)."""
    if file is None:
        return parse_keks(value)
    if value.strip():
        raise KeyEncryptionError(f"set {ENV_VAR} or {ENV_VAR}_FILE, not both")
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise KeyEncryptionError(f"cannot read {ENV_VAR}_FILE {file}: {error.strerror}") from None
    keks = parse_keks(text)
    if not keks:
        raise KeyEncryptionError(f"{ENV_VAR}_FILE {file} is empty")
    return keks


def _associated_data(kid: str) -> bytes:
    return b"tokenpath signing key\x00" + kid.encode("utf-8")


def is_wrapped(stored: str) -> bool:
    return stored.startswith(PREFIX)


def wrapped_with(stored: str) -> str | None:
    """The id of the KEK that wrapped ``stored``; ``None`` for a plain-text key."""
    if not is_wrapped(stored):
        return None
    return stored[len(PREFIX) :].split(":", 1)[0]


def wrap(kid: str, private_jwk: str, kek: KeyEncryptionKey) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    sealed = kek._aead.encrypt(nonce, private_jwk.encode("utf-8"), _associated_data(kid))
    token = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
    return f"{PREFIX}{kek.id}:{token}"


def unwrap(kid: str, stored: str, keks: Sequence[KeyEncryptionKey]) -> str:
    """The private JWK text of ``stored``; plain text is returned as it is (the caller decides
    whether plain text is acceptable)."""
    kek_id = wrapped_with(stored)
    if kek_id is None:
        return stored
    kek = next((k for k in keks if k.id == kek_id), None)
    if kek is None:
        raise KeyEncryptionError(
            f"signing key {kid} is encrypted with key-encryption key {kek_id}; "
            f"set {ENV_VAR} to that key"
        )
    _, _, token = stored[len(PREFIX) :].partition(":")
    try:
        blob = base64.urlsafe_b64decode(token.encode("ascii"))
        plain = kek._aead.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], _associated_data(kid))
    except (InvalidTag, binascii.Error, ValueError):
        raise KeyEncryptionError(
            f"signing key {kid} does not decrypt with key-encryption key {kek_id}: "
            "the stored value was altered or belongs to another key"
        ) from None
    return plain.decode("utf-8")


@dataclass(frozen=True, slots=True)
class Rewrite:
    """One row to change: compare-and-set from ``old`` to ``new``."""

    kid: str
    old: str
    new: str


def plan_rewrap(
    rows: Iterable[tuple[str, str]],
    keks: Sequence[KeyEncryptionKey],
    target: KeyEncryptionKey | None,
) -> list[Rewrite]:
    """The rows of ``(kid, stored)`` to rewrite so that every key ends up under ``target``
    (``None``: in plain text, for a downgrade). Rows already there are left alone, so running
    the plan twice changes nothing; every row is unwrapped before any is written, so an unknown
    KEK stops the whole plan rather than half of it."""
    plan = []
    for kid, stored in rows:
        current = wrapped_with(stored)
        if current == (target.id if target else None):
            continue
        plain = unwrap(kid, stored, keks)
        plan.append(Rewrite(kid, stored, wrap(kid, plain, target) if target else plain))
    return plan


class EncryptedKeyStore:
    """The ``KeyStore`` port with ``private_jwk`` wrapped on the way in, unwrapped on the way out.

    With no KEK it passes plain text through, and still turns a wrapped row into a
    :class:`KeyEncryptionError` that names the missing KEK, so it can wrap every key store.
    """

    def __init__(self, inner: KeyStore, keks: Sequence[KeyEncryptionKey]) -> None:
        self._inner = inner
        self._keks = tuple(keks)

    async def add(self, key: SigningKey) -> None:
        if self._keks:
            key = dataclasses.replace(
                key, private_jwk=wrap(key.kid, key.private_jwk, self._keks[0])
            )
        await self._inner.add(key)

    async def list_active(self) -> Sequence[SigningKey]:
        return [self._open(key) for key in await self._inner.list_active()]

    async def retire(self, kid: str, now: int) -> None:
        await self._inner.retire(kid, now)

    def _open(self, key: SigningKey) -> SigningKey:
        if self._keks and not is_wrapped(key.private_jwk):
            raise KeyEncryptionError(
                f"signing key {key.kid} is stored in plain text although {ENV_VAR} is set; "
                "run the database upgrade with the key-encryption key to encrypt it"
            )
        return dataclasses.replace(key, private_jwk=unwrap(key.kid, key.private_jwk, self._keks))
