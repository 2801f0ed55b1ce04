"""Clients' JWK Sets fetched from their ``jwks_uri`` (RFC 7591 §2, RFC 7523 §2.2), cached.

Why a cache: every ``private_key_jwt`` authentication needs the client's keys, and the client's
server must not become part of the token endpoint's hot path. Why bounds: the URI points at a
server we do not run, so a slow or hostile one must cost a token request little.

Invariants:

* A set is kept for ``ttl`` seconds (5 minutes) per URI; within that time no fetch happens
  unless a caller asks ``refresh=True`` (an assertion named a ``kid`` the set lacks).
* A URI is fetched at most once per ``min_interval`` seconds (30), ``refresh`` or not, and
  requests that miss at the same moment share one fetch: unknown ``kid`` values cannot turn the
  server into a request amplifier against the client's host.
* A fetch takes at most ``timeout`` seconds (3) in total and reads at most ``max_bytes``
  (64 KiB); redirects are not followed and proxy variables are ignored.
* Only public signing keys are kept (``core.client_assertion.public_signing_keys``).
* Failures answer None (the client's authentication fails); a failing URI is logged once, and
  again only when the reason changes or after it has worked in between. A refresh that fails
  leaves a still-fresh set in place.
"""

from __future__ import annotations

import asyncio
import json
import logging

import httpx

from tokenpath.core.client_assertion import public_signing_keys
from tokenpath.core.clock import Clock
from tokenpath.core.ttl import TtlCache

__all__ = ["RemoteKeySets"]

logger = logging.getLogger("tokenpath.storage")

ACCEPT = "application/jwk-set+json, application/json;q=0.9"


class _Refused(Exception):
    """A fetch that got an answer we do not use (status, size, content)."""


class RemoteKeySets:
    """A :class:`~tokenpath.core.ports.KeySetSource` over HTTP(S)."""

    def __init__(
        self,
        clock: Clock,
        *,
        timeout: float = 3.0,
        max_bytes: int = 64 * 1024,
        ttl: int = 300,
        min_interval: int = 30,
        max_entries: int = 10_000,
    ) -> None:
        self._clock = clock
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._ttl = ttl
        self._min_interval = min_interval
        self._sets: TtlCache[str, str] = TtlCache(max_entries)
        self._attempts: TtlCache[str, bool] = TtlCache(max_entries)
        self._failing: TtlCache[str, str] = TtlCache(max_entries)
        self._pending: dict[str, asyncio.Event] = {}

    async def key_set(self, uri: str, *, refresh: bool = False) -> str | None:
        now = self._clock.now()
        cached = self._sets.get(uri, now)
        if cached is not None and not refresh:
            return cached
        pending = self._pending.get(uri)
        if pending is not None:  # another request is fetching it: share its answer
            await pending.wait()
            return self._sets.get(uri, self._clock.now())
        if self._attempts.get(uri, now) is not None:
            return cached  # fetched moments ago: throttled
        self._attempts.put(uri, True, until=now + self._min_interval)
        done = self._pending[uri] = asyncio.Event()
        try:
            text = await self._fetch(uri)
            if text is not None:
                self._sets.put(uri, text, until=now + self._ttl)
        finally:
            del self._pending[uri]
            done.set()
        return cached if text is None else text

    async def _fetch(self, uri: str) -> str | None:
        try:
            async with asyncio.timeout(self._timeout):
                body = await self._download(uri)
            text, dropped = public_signing_keys(json.loads(body))
        except TimeoutError:
            return self._failed(uri, f"no answer within {self._timeout} s")
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            return self._failed(uri, f"request failed ({type(error).__name__})")
        except ValueError:
            return self._failed(uri, "not a JSON document")
        except _Refused as refused:
            return self._failed(uri, str(refused))
        if text is None:
            return self._failed(uri, "no public signing key in the set")
        if dropped:
            logger.warning("jwks_uri %s: %d member(s) dropped (private or unusable)", uri, dropped)
        self._failing.pop(uri)
        return text

    async def _download(self, uri: str) -> bytes:
        async with (
            httpx.AsyncClient(timeout=self._timeout, trust_env=False) as http,
            http.stream("GET", uri, headers={"Accept": ACCEPT}) as response,
        ):
            if response.status_code != 200:
                raise _Refused(f"HTTP status {response.status_code}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self._max_bytes:
                raise _Refused(f"larger than {self._max_bytes} bytes")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self._max_bytes:
                    raise _Refused(f"larger than {self._max_bytes} bytes")
            return bytes(body)

    def _failed(self, uri: str, reason: str) -> str | None:
        """Log ``reason`` unless it is what was last logged for ``uri``; the answer is None."""
        now = self._clock.now()
        if self._failing.get(uri, now) != reason:
            logger.warning("jwks_uri %s unavailable: %s", uri, reason)
        self._failing.put(uri, reason, until=now + 24 * 3600)
        return None
