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

The fetching is written once (:meth:`JwksCache._load`, a :mod:`.fetching` conversation) and run
by two shells: :meth:`JwksCache.get` for ASGI APIs and :meth:`JwksCache.get_sync` for WSGI ones,
over the same state, so one cache can serve both.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from tokenpath.core.clock import Clock, SystemClock
from tokenpath.resource.fetching import (
    MAX_DOCUMENT_BYTES,
    Get,
    Steps,
    drive,
    drive_sync,
    read_json,
    read_json_sync,
)

__all__ = ["MAX_DOCUMENT_BYTES", "JwksCache", "discover", "metadata_urls"]

logger = logging.getLogger("tokenpath.resource")

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


def discover(issuer: str, field: str) -> Steps[str | None]:
    """The URL the issuer's metadata gives for ``field`` (None if it has none), as a conversation.

    The metadata's ``issuer`` must equal ``issuer`` exactly (RFC 8414 §3.3); a location that
    answers an HTTP error is skipped for the next one.
    """
    for url in metadata_urls(issuer):
        try:
            metadata = yield Get(url)
        except httpx.HTTPStatusError:
            continue  # not at this location: try the next
        if not isinstance(metadata, Mapping) or metadata.get("issuer") != issuer:
            raise ValueError(f"the metadata at {url} names another issuer")
        value = metadata.get(field)
        if value is None:
            return None
        if not isinstance(value, str) or urlsplit(value).scheme not in ("http", "https"):
            raise ValueError(f"the metadata at {url} has no usable {field}")
        return value
    raise ValueError(f"no authorization server metadata for {issuer}")


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
        self._thread_lock = threading.Lock()
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
            if self._should_fetch(kid):
                self._begin_fetch()
                self._finish_fetch(await self._run(self._load()))
        return self._pick(kid)

    def get_sync(self, kid: str | None) -> ECKey | None:
        """:meth:`get` for WSGI APIs (Flask, Django): blocks the calling thread on a fetch."""
        if self._fresh() and (key := self._pick(kid)) is not None:
            return key
        with self._thread_lock:
            if self._should_fetch(kid):
                self._begin_fetch()
                self._finish_fetch(self._run_sync(self._load()))
        return self._pick(kid)

    def _pick(self, kid: str | None) -> ECKey | None:
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    def _fresh(self) -> bool:
        return self._loaded_at is not None and self._clock.now() - self._loaded_at < self.max_age

    def _should_fetch(self, kid: str | None) -> bool:
        if self._fresh() and self._pick(kid) is not None:
            return False
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

    def _begin_fetch(self) -> None:
        self._attempted_at = self._clock.now()
        self.fetches += 1

    def _finish_fetch(self, keys: dict[str, ECKey] | Exception) -> None:
        if isinstance(keys, Exception):
            logger.warning("could not fetch the issuer's JWK Set: %s", keys)
            return
        assert self._attempted_at is not None  # _begin_fetch ran
        self._keys, self._loaded_at = keys, self._attempted_at

    def _load(self) -> Steps[dict[str, ECKey]]:
        """The conversation: discover the ``jwks_uri`` if needed, then read the set."""
        uri = self.jwks_uri
        if uri is None:
            assert self.issuer is not None  # __init__ demands one of jwks_uri and issuer
            uri = yield from discover(self.issuer, "jwks_uri")
            if uri is None:
                raise ValueError(f"the metadata of {self.issuer} has no jwks_uri")
            self.jwks_uri = uri
        return signing_keys((yield Get(uri)))

    async def _run(self, steps: Steps[dict[str, ECKey]]) -> dict[str, ECKey] | Exception:
        try:
            http = self._http
            if http is not None:
                return await drive(steps, lambda get: read_json(http, get))
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                return await drive(steps, lambda get: read_json(client, get))
        except (httpx.HTTPError, ValueError) as error:
            return error

    def _run_sync(self, steps: Steps[dict[str, ECKey]]) -> dict[str, ECKey] | Exception:
        try:
            with httpx.Client(timeout=self._timeout) as client:
                return drive_sync(steps, lambda get: read_json_sync(client, get))
        except (httpx.HTTPError, ValueError) as error:
            return error
