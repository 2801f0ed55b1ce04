"""DPoP at the resource server (RFC 9449 §7): a key-bound token is accepted only with a fresh
proof signed by its key, so a stolen token alone calls nothing.

:class:`DpopOptions` says how an API accepts DPoP; :func:`prove` is the guard's key-binding step
for ``Authorization: DPoP <token>``, with the proof checked by ``core/dpop.py`` (the same checker
as the authorization server's token endpoint):

* exactly one ``DPoP`` header, a valid proof (``typ``, ``alg`` in :attr:`DpopOptions.algorithms`,
  public ``jwk``, signature), ``htm`` the request method, ``htu`` the URL the API was called at
  (:attr:`DpopOptions.public_url` when a proxy sits in front), ``iat`` within the window, ``ath``
  the hash of the presented token;
* the proof's key thumbprint equals the token's ``cnf.jkt`` (§6.1; a token without one is sent
  as Bearer, not DPoP);
* the server's nonce when :attr:`DpopOptions.nonces` is set (§9; off by default);
* the ``jti`` seen once (§11.1) in :attr:`DpopOptions.replay`: by default a bounded in-process
  cache (:class:`MemoryReplayCache`), which is enough for one API process; several processes
  behind one name share one cache (any object with ``first_use``, e.g. Redis ``SET NX EXAT``;
  docs/howto/resource-server.md).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from tokenpath.core.dpop import (
    DEFAULT_LEEWAY,
    DEFAULT_MAX_AGE,
    DPOP_ALGS,
    DpopProof,
    replay_key,
    single_proof,
    verify_proof,
)
from tokenpath.core.dpop_nonces import DpopNonces
from tokenpath.core.errors import InvalidDpopProof, InvalidToken, OAuthError, UseDpopNonce
from tokenpath.core.ttl import TtlCache

__all__ = [
    "DpopInvalidToken",
    "DpopOptions",
    "MemoryReplayCache",
    "ReplayCache",
    "bound_key",
    "is_dpop_error",
    "prove",
    "replay_entry",
    "replayed",
    "target_url",
]

DEFAULT_REPLAY_ENTRIES = 100_000
"""Proofs remembered by the in-process cache: at 1,000 calls a second, the whole 65 s window."""


class ReplayCache(Protocol):
    """Remembers proof ids: True only the first time ``key`` is seen before ``expires_at``.

    The in-process cache answers at once (``bool``); a shared cache may be async (awaited by the
    ASGI adapters; the WSGI ones need a synchronous cache)."""

    def first_use(self, key: str, expires_at: int, now: int) -> bool | Awaitable[bool]: ...


class MemoryReplayCache:
    """One process's replay cache: bounded (the oldest entry goes first), entries expire."""

    def __init__(self, max_entries: int = DEFAULT_REPLAY_ENTRIES) -> None:
        self._seen: TtlCache[str, bool] = TtlCache(max_entries)

    def first_use(self, key: str, expires_at: int, now: int) -> bool:
        if self._seen.get(key, now):
            return False
        self._seen.put(key, True, expires_at)
        return True


def _now() -> int:
    return int(time.time())


@dataclass(frozen=True, slots=True, kw_only=True)
class DpopOptions:
    """How an API accepts DPoP-bound tokens (RFC 9449 §7); the defaults suit most APIs."""

    algorithms: tuple[str, ...] = DPOP_ALGS
    """Proof algorithms accepted, advertised in the challenge's ``algs``."""
    max_age: int = DEFAULT_MAX_AGE
    """Seconds a proof is accepted after its ``iat``."""
    leeway: int = DEFAULT_LEEWAY
    """Seconds a proof's ``iat`` may lie ahead of this server's clock."""
    replay: ReplayCache = field(default_factory=MemoryReplayCache)
    """Where proof ids are remembered; share one between the processes of one API."""
    nonces: DpopNonces | None = None
    """Resource-server nonces (§9): proofs must carry the current one. Off by default."""
    public_url: str | None = None
    """The API's external base URL (``https://api.example.com``) when a proxy rewrites the
    host or scheme: proofs name the URL the client called (``htu``), not the one we see."""
    required: bool = False
    """Accept DPoP only: Bearer tokens are refused and the challenge names DPoP alone."""
    clock: Callable[[], int] = field(default=_now, compare=False)


class DpopInvalidToken(InvalidToken):
    """``invalid_token`` for a token presented with the DPoP scheme (its challenge is DPoP's)."""


def is_dpop_error(error: OAuthError) -> bool:
    """Whether ``error`` belongs in the ``DPoP`` challenge rather than the ``Bearer`` one."""
    return isinstance(error, InvalidDpopProof | UseDpopNonce | DpopInvalidToken)


def bound_key(claims: Mapping[str, Any]) -> str | None:
    """The ``cnf.jkt`` a token is bound to (RFC 9449 §6), or None for a bearer token."""
    confirmation = claims.get("cnf")
    if not isinstance(confirmation, Mapping):
        return None
    jkt = confirmation.get("jkt")
    return jkt if isinstance(jkt, str) and jkt else None


def target_url(url: str, public_url: str | None) -> str:
    """The URL a client called: ``url`` as the server saw it, or its path under ``public_url``."""
    if public_url is None:
        return url
    return public_url.rstrip("/") + (urlsplit(url).path or "/")


def prove(
    options: DpopOptions,
    *,
    method: str,
    url: str,
    proofs: list[str],
    token: str,
    claims: Mapping[str, Any],
    now: int,
) -> DpopProof | OAuthError:
    """§7.1: the checked proof for a token presented as ``DPoP``, or why it is refused."""
    jkt = bound_key(claims)
    if jkt is None:
        return DpopInvalidToken("this access token is not bound to a key: send it as Bearer")
    try:
        proof = single_proof(proofs)
        if proof is None:
            return InvalidDpopProof("a DPoP proof is required with a DPoP-bound token")
        nonces = options.nonces
        checked = verify_proof(
            proof,
            method=method,
            url=target_url(url, options.public_url),
            now=now,
            access_token=token,
            nonce=None if nonces is None else (lambda value: nonces.accepts(value, now)),
            max_age=options.max_age,
            leeway=options.leeway,
            algorithms=options.algorithms,
        )
    except (InvalidDpopProof, UseDpopNonce) as error:
        return error
    if checked.jkt != jkt:
        return InvalidDpopProof("the DPoP proof is signed by another key than the token's")
    return checked


def replay_entry(proof: DpopProof, options: DpopOptions, now: int) -> tuple[str, int]:
    """The replay-cache key of a proof and until when it is remembered: until no clock here
    would accept the proof again."""
    return replay_key(proof), max(proof.iat, now) + options.max_age + options.leeway + 1


def replayed() -> InvalidDpopProof:
    return InvalidDpopProof("the DPoP proof was already used", detail="dpop jti replayed")
