"""The issuer's public signing keys, fetched over HTTP and cached, so a request costs no fetch.

Where the JWK Set (RFC 7517 §5) comes from: the configured ``jwks_uri``, or else the
``jwks_uri`` of the issuer's authorization server metadata (RFC 8414 §3), whose ``issuer``
must equal the configured issuer exactly (§3.3) — otherwise another server could hand us its keys.

Invariants:

* At most one fetch (discovery included) per ``refetch_interval`` seconds, whatever arrives:
  tokens naming unknown ``kid`` values cannot make the API hammer the issuer.
* An unknown ``kid`` triggers a fetch (within that limit), so a key the issuer has just rotated
  in is accepted at once; a set older than ``max_age`` is re-fetched on its next use, so a key
  the issuer retired stops validating without a restart.
* A failed fetch keeps the last good set: an issuer outage does not reject tokens signed by keys
  we already know.
* Only EC P-256 signing keys are kept, public parts only: ES256 is the one algorithm accepted,
  and a key of another type in the set can never be used against a token (algorithm confusion).
* Requests that miss at the same moment share one fetch.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from tokenpath.core.clock import Clock, SystemClock

__all__ = ["JwksCache", "metadata_urls"]

logger = logging.getLogger("tokenpath.resource")

MAX_DOCUMENT_BYTES = 256 * 1024
"""A JWKS or metadata document larger than this is refused rather than read into memory."""

WELL_KNOWN = "/.well-known/oauth-authorization-server"


def metadata_urls(issuer: str) -> list[str]:
    """Where the issuer's metadata may live, in the order they are tried.

    RFC 8414 §3.1 inserts the well-known segment between host and path; many servers (tokenpath
    mounted under a path among them) append it to the issuer instead, as OpenID Discovery does.
    Without a path both are the same URL.
    """
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    inserted = urlunsplit((parts.scheme, parts.netloc, WELL_KNOWN + path, "", ""))
    appended = issuer.rstrip("/") + WELL_KNOWN
    return list(dict.fromkeys([inserted, appended]))


def signing_keys(document: object) -> dict[str, ECKey]:
    """The ES256 verification keys of a JWK Set, by ``kid`` (the RFC 7638 thumbprint if none)."""
    entries = document.get("keys") if isinstance(document, Mapping) else None
    if not isinstance(entries, list):
        raise ValueError("not a JWK Set")
    keys: dict[str, ECKey] = {}
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        if entry.get("kty") != "EC" or entry.get("crv") != "P-256":
            continue
        if entry.get("use", "sig") != "sig" or entry.get("alg", "ES256") != "ES256":
            continue
        public = {k: v for k, v in entry.items() if k != "d"}
        try:
            key = ECKey.import_key(public)
        except (JoseError, ValueError, TypeError, KeyError):
            continue
        kid = entry.get("kid")
        keys[kid if isinstance(kid, str) else key.thumbprint()] = key
    if not keys:
        raise ValueError("the JWK Set holds no ES256 signing key")
    return keys


class JwksCache:
    """The issuer's keys by ``kid``; see the module docstring for when it fetches."""

    def __init__(
        self,
        jwks_uri: str | None = None,
        *,
        issuer: str | None = None,
        http: httpx.AsyncClient | None = None,
        clock: Clock | None = None,
        refetch_interval: int = 30,
        max_age: int = 300,
        timeout: float = 5.0,
    ) -> None:
        """Give ``jwks_uri``, or ``issuer`` alone to discover it from the issuer's metadata.

        Without ``http`` each fetch opens its own short-lived client: fetches are rare, and a
        client bound to no event loop keeps the cache usable from any loop or thread.
        """
        if jwks_uri is None and issuer is None:
            raise ValueError("JwksCache needs a jwks_uri, or an issuer to discover it from")
        self.jwks_uri = jwks_uri
        self.issuer = issuer
        self.refetch_interval = refetch_interval
        self.max_age = max_age
        self._http = http
        self._timeout = timeout
        self._clock = clock or SystemClock()
        self._keys: dict[str, ECKey] = {}
        self._loaded_at: int | None = None
        self._attempted_at: int | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0
        """Fetch attempts so far (for tests and metrics)."""

    @property
    def loaded(self) -> bool:
        """Whether a JWK Set was ever fetched successfully."""
        return self._loaded_at is not None

    @property
    def kids(self) -> frozenset[str]:
        return frozenset(self._keys)

    async def get(self, kid: str | None) -> ECKey | None:
        """The key named ``kid`` (None: the only key), or None when the issuer has no such key."""
        if self._fresh() and (key := self._pick(kid)) is not None:
            return key
        async with self._loop_lock():
            # whoever held the lock may have fetched the key we are missing
            if not (self._fresh() and self._pick(kid) is not None) and self._may_fetch():
                await self._refresh()
        return self._pick(kid)

    def _pick(self, kid: str | None) -> ECKey | None:
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    def _fresh(self) -> bool:
        return self._loaded_at is not None and self._clock.now() - self._loaded_at < self.max_age

    def _may_fetch(self) -> bool:
        return (
            self._attempted_at is None
            or self._clock.now() - self._attempted_at >= self.refetch_interval
        )

    def _loop_lock(self) -> asyncio.Lock:
        """One lock per event loop: an asyncio lock must not be shared across loops."""
        loop = asyncio.get_running_loop()
        if self._lock_loop is not loop:
            self._lock_loop, self._lock = loop, asyncio.Lock()
        return self._lock

    async def _refresh(self) -> None:
        now = self._clock.now()
        self._attempted_at = now
        self.fetches += 1
        try:
            uri = self.jwks_uri or await self._discover()
            keys = signing_keys(await self._get_json(uri))
        except (httpx.HTTPError, ValueError) as error:
            logger.warning("could not fetch the issuer's JWK Set: %s", error)
            return
        self._keys, self._loaded_at = keys, now

    async def _discover(self) -> str:
        assert self.issuer is not None  # __init__ demands one of jwks_uri and issuer
        for url in metadata_urls(self.issuer):
            try:
                metadata = await self._get_json(url)
            except httpx.HTTPStatusError:
                continue  # not at this location: try the next
            if not isinstance(metadata, Mapping) or metadata.get("issuer") != self.issuer:
                raise ValueError(f"the metadata at {url} names another issuer")
            uri = metadata.get("jwks_uri")
            if not isinstance(uri, str) or urlsplit(uri).scheme not in ("http", "https"):
                raise ValueError(f"the metadata at {url} has no usable jwks_uri")
            self.jwks_uri = uri
            return uri
        raise ValueError(f"no authorization server metadata for {self.issuer}")

    async def _get_json(self, url: str) -> Any:
        if self._http is not None:
            return await _read_json(self._http, url)
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            return await _read_json(client, url)


async def _read_json(client: httpx.AsyncClient, url: str) -> Any:
    """GET ``url`` as JSON: 2xx only (redirects are not followed), at most MAX_DOCUMENT_BYTES."""
    async with client.stream("GET", url, headers={"Accept": "application/json"}) as response:
        response.raise_for_status()
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > MAX_DOCUMENT_BYTES:
                raise ValueError(f"{url} sent more than {MAX_DOCUMENT_BYTES} bytes")
    return json.loads(body)
