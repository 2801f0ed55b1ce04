"""Revocation that reaches JWT-validating APIs in seconds: the authorization server's feed,
polled in the background, consulted locally on every request.

The feed (served by tokenpath, advertised as ``revocation_feed_endpoint`` in its metadata)::

    GET {issuer}/revocations[?since=CURSOR]          HTTP Basic: the API's client_id:client_secret
    200 {"cursor": "...", "poll_interval": 1,
         "revoked": [{"jti": "...", "exp": N} | {"grant_id": "...", "exp": N}, ...]}

The first call (no ``since``) returns every live entry; each later call passes the last cursor
and returns what was revoked since. A token is refused when its ``jti`` or its ``grant_id`` (a
user's grant: revoking it revokes every token minted from it) is on the list.

Invariants:

* :meth:`RevocationFeed.is_revoked` is a dictionary lookup: no request reaches the authorization
  server per API call; only the poller talks to it, every ``poll_interval`` seconds (the
  server's value, kept within ``min_interval``..``max_interval``).
* An entry is kept until its ``exp`` plus ``keep_after_exp`` (the validators' clock leeway):
  after that the token is refused as expired anyway, so the list stays as small as the set of
  live revoked tokens.
* A failed poll (network, HTTP error, a malformed page) changes nothing already known: the last
  state stays, the poller backs off (doubling up to ``max_backoff``), logs the reason without
  credentials, and :attr:`RevocationFeed.healthy` turns false until a poll succeeds again. An
  entry that is malformed is skipped; the rest of its page still counts.
* A cursor the server no longer knows (HTTP 400 or 410 to ``since``) is dropped, and the next
  poll fetches every live entry again.

The poll is written once (:meth:`RevocationFeed._poll`, a :mod:`.fetching` conversation) and run
by an asyncio task (``async with feed:``, for ASGI apps' lifespan) or a daemon thread
(``with feed:``, for Flask and Django).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import quote_plus

import httpx

from tokenpath.core.clock import Clock, SystemClock
from tokenpath.resource.fetching import Get, Steps, drive, drive_sync, read_json, read_json_sync
from tokenpath.resource.jwks import discover

__all__ = ["METADATA_FIELD", "FeedPage", "RevocationFeed", "parse_page"]

logger = logging.getLogger("tokenpath.resource")

METADATA_FIELD = "revocation_feed_endpoint"
MAX_PAGE_BYTES = 8 * 1024 * 1024
"""A feed page larger than this is refused (a first page holds every live entry)."""


@dataclass(frozen=True, slots=True)
class FeedPage:
    """One answer of the feed, checked: revoked ids with their ``exp``, by kind."""

    cursor: str
    jtis: dict[str, int]
    grant_ids: dict[str, int]
    poll_interval: float | None
    skipped: int


def _exp(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if math.isfinite(value) else None


def parse_page(document: object) -> FeedPage:
    """The page in ``document``, or ValueError when its frame is wrong (entries are lenient)."""
    if not isinstance(document, Mapping):
        raise ValueError("the feed did not answer a JSON object")
    cursor, revoked = document.get("cursor"), document.get("revoked")
    if not isinstance(cursor, str) or not cursor or not isinstance(revoked, list):
        raise ValueError("the feed page lacks a cursor or the revoked list")
    interval = document.get("poll_interval")
    if interval is not None and (_exp(interval) is None or interval <= 0):
        raise ValueError("the feed page has a malformed poll_interval")
    jtis: dict[str, int] = {}
    grant_ids: dict[str, int] = {}
    skipped = 0
    for entry in revoked:
        exp = _exp(entry.get("exp")) if isinstance(entry, Mapping) else None
        jti = entry.get("jti") if isinstance(entry, Mapping) else None
        grant_id = entry.get("grant_id") if isinstance(entry, Mapping) else None
        if exp is not None and isinstance(jti, str) and jti:
            jtis[jti] = max(exp, jtis.get(jti, exp))
        elif exp is not None and isinstance(grant_id, str) and grant_id:
            grant_ids[grant_id] = max(exp, grant_ids.get(grant_id, exp))
        else:
            skipped += 1  # an entry of a kind we do not know yet, or malformed
    return FeedPage(cursor, jtis, grant_ids, float(interval) if interval else None, skipped)


def _live(entries: dict[str, int], horizon: int) -> dict[str, int]:
    return {key: exp for key, exp in entries.items() if exp > horizon}


class RevocationFeed:
    """Revoked ``jti`` and ``grant_id`` values of one issuer, kept current by polling its feed.

    Give it to :class:`~tokenpath.resource.JwtValidator` or
    :class:`~tokenpath.resource.SyncJwtValidator` as ``revocations=``.
    """

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str,
        endpoint: str | None = None,
        clock: Clock | None = None,
        min_interval: float = 0.2,
        max_interval: float = 30.0,
        max_backoff: float = 60.0,
        keep_after_exp: int = 60,
        stale_after: float = 30.0,
        timeout: float = 5.0,
    ) -> None:
        """``endpoint`` defaults to the metadata's ``revocation_feed_endpoint``, else
        ``{issuer}/revocations``; the credentials are the API's own (``tokenpath api add``)."""
        self.issuer = issuer
        self.endpoint = endpoint
        # RFC 6749 §2.3.1: form-urlencode the credentials before they go into Basic
        self._auth = httpx.BasicAuth(quote_plus(client_id), quote_plus(client_secret))
        self._clock = clock or SystemClock()
        self.min_interval, self.max_interval = min_interval, max_interval
        self.max_backoff, self.keep_after_exp = max_backoff, keep_after_exp
        self.stale_after, self._timeout = stale_after, timeout
        self.cursor: str | None = None
        self.interval = 1.0
        """Seconds until the next poll after a success (the server's ``poll_interval``)."""
        self.failures = 0
        """Polls failed in a row (0 after a success)."""
        self.polls = 0
        self.last_success: float | None = None
        """Wall-clock time (``time.time()``) of the last successful poll."""
        self._jtis: dict[str, int] = {}
        self._grant_ids: dict[str, int] = {}
        self._lock = threading.Lock()
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # -- what validators ask -------------------------------------------------------------

    def is_revoked(self, claims: Mapping[str, Any]) -> bool:
        """Whether the token's ``jti`` or ``grant_id`` is on the list (no I/O)."""
        jti, grant_id = claims.get("jti"), claims.get("grant_id")
        return (isinstance(jti, str) and jti in self._jtis) or (
            isinstance(grant_id, str) and grant_id in self._grant_ids
        )

    @property
    def healthy(self) -> bool:
        """The last poll succeeded, less than ``stale_after`` seconds (or three intervals) ago."""
        return (
            self.failures == 0
            and self.last_success is not None
            and time.time() - self.last_success < max(self.stale_after, 3 * self.interval)
        )

    @property
    def size(self) -> int:
        return len(self._jtis) + len(self._grant_ids)

    def next_delay(self) -> float:
        """Seconds to wait before the next poll: the interval, or the backoff after failures."""
        if self.failures == 0:
            return self.interval
        backoff = min(self.max_backoff, max(self.interval, 1.0) * 2.0 ** (self.failures - 1))
        jitter: float = random.uniform(0.8, 1.0)  # noqa: S311 - spreads API instances, no secret
        return backoff * jitter

    # -- one poll, written once ----------------------------------------------------------

    def _poll(self) -> Steps[FeedPage]:
        if self.endpoint is None:
            found = yield from discover(self.issuer, METADATA_FIELD)
            self.endpoint = found or self.issuer.rstrip("/") + "/revocations"
        params = (("since", self.cursor),) if self.cursor else ()
        try:
            document = yield Get(self.endpoint, params, self._auth, MAX_PAGE_BYTES)
        except httpx.HTTPStatusError as error:
            if self.cursor and error.response.status_code in (400, 410):
                logger.warning("the revocation feed forgot our cursor; reading it whole again")
                self.cursor = None
            raise
        return parse_page(document)

    def _apply(self, outcome: FeedPage | Exception) -> bool:
        self.polls += 1
        if isinstance(outcome, Exception):
            self.failures += 1
            status = getattr(getattr(outcome, "response", None), "status_code", None)
            logger.warning(
                "revocation feed poll failed (%s%s); keeping the %d known entries, next try in"
                " %.1f s",
                type(outcome).__name__,
                f", HTTP {status}" if status else "",
                self.size,
                self.next_delay(),
            )
            return False
        horizon = self._clock.now() - self.keep_after_exp
        with self._lock:
            # built aside and swapped in whole: readers in other threads never see a half update
            jtis = {k: v for k, v in (self._jtis | outcome.jtis).items() if v > horizon}
            grant_ids = {
                k: v for k, v in (self._grant_ids | outcome.grant_ids).items() if v > horizon
            }
            self._jtis, self._grant_ids = jtis, grant_ids
            self.cursor = outcome.cursor
        if outcome.poll_interval is not None:
            self.interval = min(self.max_interval, max(self.min_interval, outcome.poll_interval))
        if outcome.skipped:
            logger.info("revocation feed: skipped %d entries of unknown shape", outcome.skipped)
        self.failures, self.last_success = 0, time.time()
        return True

    async def poll(self, http: httpx.AsyncClient | None = None) -> bool:
        """One poll now; whether it succeeded."""
        try:
            if http is not None:
                return self._apply(await drive(self._poll(), lambda get: read_json(http, get)))
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                return self._apply(await drive(self._poll(), lambda get: read_json(client, get)))
        except (httpx.HTTPError, ValueError) as error:
            return self._apply(error)

    def poll_sync(self, http: httpx.Client | None = None) -> bool:
        """:meth:`poll` for threads."""
        try:
            if http is not None:
                return self._apply(drive_sync(self._poll(), lambda get: read_json_sync(http, get)))
            with httpx.Client(timeout=self._timeout) as client:
                return self._apply(
                    drive_sync(self._poll(), lambda get: read_json_sync(client, get))
                )
        except (httpx.HTTPError, ValueError) as error:
            return self._apply(error)

    # -- running in the background -------------------------------------------------------

    async def start(self) -> None:
        """Poll once (so the API starts knowing), then keep polling in an asyncio task."""
        if self._task is not None:
            return
        await self.poll()
        self._task = asyncio.create_task(self._run(), name="tokenpath-revocation-feed")

    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=self._timeout) as http:
            while True:
                await asyncio.sleep(self.next_delay())
                try:
                    await self.poll(http)
                except Exception:  # a dead poller would go stale silently: log, count, go on
                    logger.exception("revocation feed poll crashed")
                    self.failures += 1

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def __aenter__(self) -> RevocationFeed:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def start_thread(self) -> None:
        """Poll once, then keep polling in a daemon thread (WSGI apps: Flask, Django)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self.poll_sync()
        self._thread = threading.Thread(
            target=self._run_thread, name="tokenpath-revocation-feed", daemon=True
        )
        self._thread.start()

    def _run_thread(self) -> None:
        with httpx.Client(timeout=self._timeout) as http:
            while not self._stop.wait(self.next_delay()):
                try:
                    self.poll_sync(http)
                except Exception:  # a dead poller would go stale silently: log, count, go on
                    logger.exception("revocation feed poll crashed")
                    self.failures += 1

    def close(self) -> None:
        """Stop the thread (waits for a poll under way, at most ``timeout`` seconds)."""
        thread, self._thread = self._thread, None
        self._stop.set()
        if thread is not None:
            thread.join(timeout=self._timeout + 1)

    def __enter__(self) -> RevocationFeed:
        self.start_thread()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
