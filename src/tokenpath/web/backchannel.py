"""Delivering logout tokens to clients (OpenID Connect Back-Channel Logout 1.0 §2.5).

The core decides who is told what (``core/logout.py``); this module only does the HTTP, and
never on the path of the user's logout response:

* Each delivery runs as a background task the sender owns; the logout page answers at once.
  ``aclose`` (application shutdown) waits for running deliveries at most :data:`DRAIN_SECONDS`,
  then cancels them.
* A request is ``POST application/x-www-form-urlencoded`` with ``logout_token`` (§2.5), bounded
  by :data:`TIMEOUT` seconds; redirects are not followed (a 3xx is a failure: §2.8 expects 200
  or 204, and following one would send the token elsewhere); proxy settings from the
  environment are ignored (``trust_env=False``), so the token goes straight to the registered
  URI.
* A failure (network error, timeout, any status but 200/204) is retried, :data:`ATTEMPTS` in
  all, after :data:`BACKOFF` seconds each; every attempt is logged (``tokenpath.backchannel``,
  URI and status, never the token), and a delivery that failed every attempt is a security
  event, ``backchannel_logout.failed`` (``core/events.py``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

import httpx

from tokenpath.core.events import Event, EventName, EventSink
from tokenpath.core.logout import LogoutDelivery

__all__ = ["ATTEMPTS", "BACKOFF", "DRAIN_SECONDS", "TIMEOUT", "BackchannelSender"]

log = logging.getLogger("tokenpath.backchannel")

TIMEOUT = 2.0
"""Seconds one delivery attempt may take, connection included."""
ATTEMPTS = 3
BACKOFF = (0.5, 1.5)
"""Seconds to wait before the second and the third attempt."""
DRAIN_SECONDS = 5.0
"""How long shutdown waits for deliveries still running."""


class BackchannelSender:
    """Posts logout tokens in the background; one per application, closed on shutdown."""

    def __init__(
        self,
        *,
        timeout: float = TIMEOUT,
        attempts: int = ATTEMPTS,
        backoff: tuple[float, ...] = BACKOFF,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._attempts = attempts
        self._backoff = backoff
        self._http = httpx.AsyncClient(
            timeout=timeout, follow_redirects=False, trust_env=False, transport=transport
        )
        self._tasks: set[asyncio.Task[bool]] = set()

    def submit(self, deliveries: Iterable[LogoutDelivery], events: EventSink) -> None:
        """Start every delivery and return at once."""
        for delivery in deliveries:
            task = asyncio.create_task(self.deliver(delivery, events))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def deliver(self, delivery: LogoutDelivery, events: EventSink) -> bool:
        """Up to ``attempts`` POSTs; True once the client answered 200 or 204."""
        reason = ""
        for attempt in range(1, self._attempts + 1):
            if attempt > 1:
                await asyncio.sleep(self._backoff[min(attempt - 2, len(self._backoff) - 1)])
            reason = await self._post(delivery)
            if not reason:
                log.info(
                    "logout token delivered to %s for client %s (attempt %d)",
                    delivery.uri,
                    delivery.client_id,
                    attempt,
                )
                return True
            log.warning(
                "logout token delivery to %s for client %s failed (attempt %d of %d): %s",
                delivery.uri,
                delivery.client_id,
                attempt,
                self._attempts,
                reason,
            )
        events.emit(
            Event(
                name=EventName.BACKCHANNEL_LOGOUT_FAILED,
                outcome="refused",
                client_id=delivery.client_id,
                detail=f"{self._attempts} attempts failed; last: {reason}",
            )
        )
        return False

    async def _post(self, delivery: LogoutDelivery) -> str:
        """The empty string on success, else why the attempt failed."""
        try:
            response = await self._http.post(
                delivery.uri, data={"logout_token": delivery.logout_token}
            )
        except httpx.TimeoutException:
            return "timed out"
        except httpx.HTTPError as error:
            return f"request failed ({type(error).__name__})"
        if response.status_code in (200, 204):
            return ""
        return f"HTTP {response.status_code}"

    async def idle(self) -> None:
        """Wait until every delivery submitted so far has finished (tests, shutdown)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def aclose(self) -> None:
        """Let running deliveries finish for at most :data:`DRAIN_SECONDS`, then stop them."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=DRAIN_SECONDS)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        await self._http.aclose()
