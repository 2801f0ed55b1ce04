"""Security events: one structured record per attack signal or administrative change.

An operator must be able to see an attack without reading code: a guessed password, a throttle
that tripped, a failed client authentication, a replayed code or client assertion, a reused
refresh token, a key rotation, an administrator's change. The core names the event and its
facts as a value; an :class:`EventSink` decides where it goes (the log by default, a list in
tests, a metrics counter later).

Rules every record keeps:

* Never a secret, token, code, password or assertion — identifiers only.
* A user name is recorded hashed (``username_hash``), because a failed sign-in's "user name" is
  often a mistyped password. A user *id* (ours, random) is recorded as is.
* Every attacker-chosen string (client id, user name) is bounded before it is recorded, so a
  12 KB ``client_id`` cannot bloat the log.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Literal, Protocol

from tokenpath.core.clock import Clock, SystemClock
from tokenpath.core.ttl import TtlCache

__all__ = [
    "Event",
    "EventName",
    "EventSink",
    "ListEventSink",
    "LogEventSink",
    "Outcome",
    "bounded",
    "hash_username",
]

MAX_FIELD = 128
"""Longest attacker-supplied string kept in a record (longer ones are cut and marked)."""


class EventName(StrEnum):
    LOGIN_FAILED = "login.failed"
    LOGIN_THROTTLED = "login.throttled"
    LOGIN_BUSY = "login.busy"
    CLIENT_AUTH_FAILED = "client_auth.failed"
    CLIENT_AUTH_THROTTLED = "client_auth.throttled"
    CLIENT_ASSERTION_REPLAYED = "client_assertion.replayed"
    CODE_REPLAYED = "code.replayed"
    REFRESH_TOKEN_REUSED = "refresh_token.reused"
    KEY_ROTATED = "key.rotated"
    KEY_RETIRED = "key.retired"
    ADMIN_CHANGE = "admin.change"
    BACKCHANNEL_LOGOUT_FAILED = "backchannel_logout.failed"


Outcome = Literal["refused", "revoked", "throttled", "changed"]


def bounded(value: str | None) -> str | None:
    """``value`` cut to :data:`MAX_FIELD` characters (with a marker) — for attacker input."""
    if value is None or len(value) <= MAX_FIELD:
        return value
    return f"{value[:MAX_FIELD]}...({len(value)} chars)"


def hash_username(username: str) -> str:
    """A short, stable fingerprint of a user name: correlates attempts, reveals no password typo."""
    return hashlib.sha256(username.casefold().encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    name: EventName
    outcome: Outcome
    client_id: str | None = None
    user_id: str | None = None
    username_hash: str | None = None
    source: str | None = None
    """The client's network address as the web layer determined it (trusted proxies only)."""
    grant_id: str | None = None
    detail: str = ""
    """A fixed, server-written reason (``OAuthError.detail``); never request data."""
    extra: tuple[tuple[str, str], ...] = field(default=())

    def fields(self) -> dict[str, object]:
        """The record as flat JSON-ready fields, empty ones left out."""
        record = {k: v for k, v in asdict(self).items() if v not in (None, "", ())}
        record["event"] = str(record.pop("name"))
        record.update(dict(self.extra))
        record.pop("extra", None)
        return record


class EventSink(Protocol):
    def emit(self, event: Event) -> None: ...


SECURITY_LOGGER = "tokenpath.security"


class LogEventSink:
    """One log record per event on the ``tokenpath.security`` logger (WARNING for attacks).

    The message is the event as one JSON object, so a text log is still machine-readable; the
    fields are also attached as ``record.event_fields`` for a JSON formatter.

    A throttled attacker keeps knocking, and every knock is a ``throttled`` event: repeats of
    the same throttled event (same name, client, user and source) within
    :data:`REPEAT_WINDOW` seconds are counted, not logged, and the next record that is logged
    says how many it stands for (``repeated``). The log then grows with the number of
    attackers, not with their request rate.
    """

    REPEAT_WINDOW = 60

    def __init__(self, logger: logging.Logger | None = None, clock: Clock | None = None) -> None:
        self._log = logger or logging.getLogger(SECURITY_LOGGER)
        self._clock = clock or SystemClock()
        self._repeats: TtlCache[tuple[str | None, ...], list[int]] = TtlCache(max_entries=10_000)

    def emit(self, event: Event) -> None:
        fields = event.fields()
        if event.outcome == "throttled":
            key = (event.name, event.client_id, event.user_id, event.username_hash, event.source)
            now = self._clock.now()
            seen = self._repeats.get(key, now)  # [window start, repeats counted since]
            if seen is not None and now < seen[0] + self.REPEAT_WINDOW:
                seen[1] += 1
                return
            if seen is not None and seen[1]:
                fields["repeated"] = seen[1]
            self._repeats.put(key, [now, 0], until=now + 60 * self.REPEAT_WINDOW)
        level = logging.INFO if event.outcome == "changed" else logging.WARNING
        self._log.log(
            level,
            "security event %s",
            json.dumps(fields, sort_keys=True),
            extra={"event_fields": fields},
        )


class ListEventSink:
    """Keeps events in memory: for tests and for the flow lab's recorder."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def named(self, name: EventName) -> list[Event]:
        return [e for e in self.events if e.name is name]
