"""DPoP proofs (RFC 9449): a token bound to a key is useless to whoever steals it alone.

One checker for both sides: the authorization server's token endpoint and, later, resource
servers call :func:`verify_proof` with the request's method and URL, the ``DPoP`` header value,
the access token when one is presented, the time, and optionally a nonce check. It returns a
:class:`DpopProof` carrying the key's RFC 7638 thumbprint (``jkt``), or raises
:class:`~tokenpath.core.errors.InvalidDpopProof` / :class:`~tokenpath.core.errors.UseDpopNonce`.
Replay is refused separately by :func:`refuse_replay`, through any shared
:class:`~tokenpath.core.ports.ReplayCache`, so several processes see one ``jti`` once.

The checks of RFC 9449 §4.3, in order:

* one ``DPoP`` header (§4.3 point 1; two are refused), a compact JWS of bounded size (point 2);
* ``typ`` is ``dpop+jwt`` (point 4); ``alg`` is one of :data:`DPOP_ALGS`, asymmetric and never
  ``none`` (point 5); ``jwk`` is a public key (point 7: a private member is refused, and a
  symmetric key is no key to prove possession of);
* the signature verifies with that ``jwk`` (point 6);
* ``htm`` equals the method (point 8); ``htu`` equals the request URL once both are normalised
  (point 9, RFC 3986 §6.2.2-6.2.3: scheme and host case-insensitive, default port dropped,
  percent-encoding case and unreserved characters normalised, no query or fragment);
* ``iat`` within ``max_age`` seconds before ``now`` and at most ``leeway`` after (point 11);
  ``jti`` present (§4.2);
* ``ath`` is the base64url SHA-256 of the access token, when one is presented (point 10, §4.2);
* ``nonce`` accepted by the server's check when it provides nonces (point 10, §8, §9).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry
from joserfc.jws import JWSRegistry

from tokenpath.core.clock import constant_time_equals
from tokenpath.core.errors import InvalidDpopProof, UseDpopNonce
from tokenpath.core.ports import ReplayCache

__all__ = [
    "DEFAULT_LEEWAY",
    "DEFAULT_MAX_AGE",
    "DPOP_ALGS",
    "MAX_PROOF_LENGTH",
    "PROOF_TYP",
    "DpopProof",
    "NonceCheck",
    "access_token_hash",
    "normalize_htu",
    "refuse_replay",
    "single_proof",
    "verify_proof",
]

DPOP_ALGS: tuple[str, ...] = ("ES256", "EdDSA", "RS256", "PS256")
"""Asymmetric algorithms only: ``none`` and HMAC prove nothing about a key (§4.3 point 5)."""
PROOF_TYP = "dpop+jwt"
DEFAULT_MAX_AGE = 60
"""Seconds a proof is accepted after its ``iat`` (the server's knob overrides it)."""
DEFAULT_LEEWAY = 5
"""Seconds a proof's ``iat`` may lie ahead of our clock (clock skew; more is future-dated)."""
MAX_PROOF_LENGTH = 8192
"""A proof carries one public key and a few claims; anything longer is refused unparsed."""
MAX_JTI_LENGTH = 256
_KEY_TYPES = ("EC", "OKP", "RSA")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

_REGISTRY = JWSRegistry(algorithms=list(DPOP_ALGS))
_REGISTRY.max_header_length = MAX_PROOF_LENGTH  # an RSA jwk alone outgrows joserfc's 512 bytes

NonceCheck = Callable[[str | None], bool]
"""Whether the proof's ``nonce`` (None when absent) is one the server currently accepts."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DpopProof:
    """A verified proof: who holds the key (``jkt``) and what the proof was made for."""

    jkt: str
    """RFC 7638 SHA-256 thumbprint of the proof's public key (``cnf.jkt``, RFC 9449 §6.1)."""
    jti: str
    iat: int
    htm: str
    htu: str
    nonce: str | None = None
    ath: str | None = None


def single_proof(values: Sequence[str]) -> str | None:
    """The one ``DPoP`` header of a request: None when absent; two or more are refused (§4.3)."""
    if not values:
        return None
    if len(values) > 1:
        raise InvalidDpopProof("exactly one DPoP header is allowed")
    return values[0]


def access_token_hash(access_token: str) -> str:
    """``ath``: base64url (unpadded) SHA-256 of the ASCII access token (§4.2)."""
    digest = hashlib.sha256(access_token.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _normalize_percent(path: str) -> str:
    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(0)[1:], 16))
        return char if char in _UNRESERVED else match.group(0).upper()

    return _PERCENT.sub(fix, path)


def normalize_htu(url: str) -> str | None:
    """``url`` in the form §4.3 compares (RFC 3986 §6.2.2, §6.2.3); None if not an absolute
    http(s) URL without user information."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if scheme not in _DEFAULT_PORTS or not host or parts.username is not None:
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return f"{scheme}://{netloc}{_normalize_percent(parts.path) or '/'}"


def _header_and_key(proof: str, algorithms: Sequence[str]) -> tuple[Mapping[str, Any], Any]:
    """The protected header and the public key it carries, both checked (§4.3 points 2-7)."""
    if len(proof) > MAX_PROOF_LENGTH or proof.count(".") != 2:
        raise InvalidDpopProof("the DPoP proof is not a compact JWS")
    try:
        header = jws.extract_compact(proof.encode("ascii"), registry=_REGISTRY).protected
    except (JoseError, ValueError, TypeError, UnicodeError) as error:
        raise InvalidDpopProof("the DPoP proof is malformed", detail=repr(error)) from None
    if str(header.get("typ", "")).lower() != PROOF_TYP:
        raise InvalidDpopProof("the DPoP proof typ must be dpop+jwt")
    if header.get("alg") not in algorithms:
        raise InvalidDpopProof(f"the DPoP proof alg must be one of {' '.join(algorithms)}")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict) or jwk.get("kty") not in _KEY_TYPES:
        raise InvalidDpopProof("the DPoP proof must carry an asymmetric public jwk")
    try:
        key = JWKRegistry.import_key(jwk)
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise InvalidDpopProof("the DPoP proof jwk is invalid", detail=repr(error)) from None
    if key.is_private:
        raise InvalidDpopProof("the DPoP proof jwk must not contain a private key")
    return header, key


def _verified_claims(proof: str, key: Any, alg: str) -> dict[str, Any]:
    try:
        payload = jws.deserialize_compact(proof, key, algorithms=[alg], registry=_REGISTRY).payload
        claims = json.loads(payload)
    except (JoseError, ValueError, TypeError, UnicodeError) as error:
        raise InvalidDpopProof("the DPoP proof signature is invalid", detail=repr(error)) from None
    if not isinstance(claims, dict):
        raise InvalidDpopProof("the DPoP proof claims are not a JSON object")
    return claims


def _string(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidDpopProof(f"the DPoP proof {name} claim is missing")
    return value


def _check_target(claims: Mapping[str, Any], method: str, url: str) -> tuple[str, str]:
    htm, htu = _string(claims, "htm"), _string(claims, "htu")
    if htm != method:
        raise InvalidDpopProof("the DPoP proof htm does not match the request method")
    expected = normalize_htu(url)
    if expected is None or normalize_htu(htu) != expected:
        raise InvalidDpopProof("the DPoP proof htu does not match the request URL")
    return htm, htu


def _check_iat(claims: Mapping[str, Any], now: int, max_age: int, leeway: int) -> int:
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool) or not math.isfinite(iat):
        raise InvalidDpopProof("the DPoP proof iat claim is missing")
    issued = int(iat)
    if issued < now - max_age:
        raise InvalidDpopProof("the DPoP proof has expired")
    if issued > now + leeway:
        raise InvalidDpopProof("the DPoP proof is dated in the future")
    return issued


def _check_ath(claims: Mapping[str, Any], access_token: str | None) -> str | None:
    ath = claims.get("ath")
    if access_token is None:
        return ath if isinstance(ath, str) else None
    if not isinstance(ath, str) or not constant_time_equals(ath, access_token_hash(access_token)):
        raise InvalidDpopProof("the DPoP proof ath does not match the access token")
    return ath


def verify_proof(
    proof: str,
    *,
    method: str,
    url: str,
    now: int,
    access_token: str | None = None,
    nonce: NonceCheck | None = None,
    max_age: int = DEFAULT_MAX_AGE,
    leeway: int = DEFAULT_LEEWAY,
    algorithms: Sequence[str] = DPOP_ALGS,
) -> DpopProof:
    """Check ``proof`` for a ``method`` request to ``url`` (§4.3); replay is not checked here.

    ``access_token``: the token presented with the proof (resource servers; its ``ath`` must
    match). ``nonce``: the server's nonce check; a proof without an accepted nonce raises
    :class:`UseDpopNonce`, after every other check passed (a nonce is no reward for a bad proof).
    """
    header, key = _header_and_key(proof, algorithms)
    claims = _verified_claims(proof, key, str(header["alg"]))
    htm, htu = _check_target(claims, method, url)
    iat = _check_iat(claims, now, max_age, leeway)
    jti = _string(claims, "jti")
    if len(jti) > MAX_JTI_LENGTH:
        raise InvalidDpopProof("the DPoP proof jti is too long")
    ath = _check_ath(claims, access_token)
    presented = claims.get("nonce")
    presented = presented if isinstance(presented, str) else None
    if nonce is not None and not nonce(presented):
        raise UseDpopNonce("a fresh DPoP nonce is required")
    return DpopProof(
        jkt=key.thumbprint(), jti=jti, iat=iat, htm=htm, htu=htu, nonce=presented, ath=ath
    )


def replay_key(proof: DpopProof) -> str:
    """The replay-cache key of a proof: its key and ``jti``, hashed to a fixed length."""
    digest = hashlib.sha256(f"{proof.jkt}\x00{proof.jti}".encode()).hexdigest()
    return f"dpop-jti:{digest}"


async def refuse_replay(
    proof: DpopProof,
    cache: ReplayCache,
    *,
    now: int,
    max_age: int = DEFAULT_MAX_AGE,
    leeway: int = DEFAULT_LEEWAY,
) -> None:
    """Accept each proof once (§11.1): its ``jti`` is remembered until no clock would accept
    the proof again, in the shared cache, so a proof replayed to another process is refused."""
    expires_at = max(proof.iat, now) + max_age + leeway + 1
    if not await cache.first_use(replay_key(proof), expires_at, now):
        raise InvalidDpopProof("the DPoP proof was already used", detail="dpop jti replayed")
