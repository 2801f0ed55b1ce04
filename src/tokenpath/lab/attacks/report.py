"""What one attack run did and how it ended, as plain JSON-ready values.

A :class:`Journal` is filled while an attack runs: the narrative steps (who did what) and every
HTTP request any actor made (method, URL, status and the headers that carry the lesson). The
report is built from it once the outcome is known, so the lab page, ``--json`` style exports
and the tests read one shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import httpx

__all__ = [
    "REQUEST_HEADERS",
    "RESPONSE_HEADERS",
    "AttackReport",
    "AttackUnavailable",
    "Journal",
    "Outcome",
    "RequestRecord",
]

Outcome = Literal["succeeded", "stopped"]

REQUEST_HEADERS = ("authorization", "dpop", "cookie", "referer", "origin")
"""Request headers shown in a report: where credentials and leaks travel."""
RESPONSE_HEADERS = ("location", "set-cookie", "www-authenticate", "referrer-policy")
"""Response headers shown in a report: redirects, sessions, refusals, referrer rules."""


class AttackUnavailable(Exception):
    """The mode cannot run against this server (a feature it does not advertise, no browser)."""


@dataclass(frozen=True, slots=True)
class RequestRecord:
    actor: str
    """Who sent it: ``victim browser``, ``victim app``, ``attacker`` ..."""
    method: str
    url: str
    status: int
    headers: dict[str, str]
    """The relevant request and response headers (:data:`REQUEST_HEADERS`,
    :data:`RESPONSE_HEADERS`), response ones prefixed with ``<- ``."""


@dataclass(frozen=True, slots=True)
class AttackReport:
    attack: str
    title: str
    mode: str
    mode_label: str
    rfc9700: str
    insecure: bool
    """True when the mode uses a deliberately vulnerable lab-only client."""
    steps: list[str]
    requests: list[RequestRecord]
    outcome: Outcome
    why: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def relevant_headers(
    request: Iterable[tuple[str, str]], response: Iterable[tuple[str, str]]
) -> dict[str, str]:
    shown: dict[str, str] = {}
    for name, value in request:
        if name.lower() in REQUEST_HEADERS:
            shown[name.lower()] = value
    for name, value in response:
        if name.lower() in RESPONSE_HEADERS:
            key = f"<- {name.lower()}"
            shown[key] = f"{shown[key]}; {value}" if key in shown else value
    return shown


@dataclass
class Journal:
    """The steps and requests of one run, appended in the order they happened."""

    steps: list[str] = field(default_factory=list)
    requests: list[RequestRecord] = field(default_factory=list)

    def step(self, text: str) -> None:
        self.steps.append(text)

    def record(
        self,
        actor: str,
        method: str,
        url: str,
        status: int,
        headers: Mapping[str, str],
    ) -> None:
        self.requests.append(RequestRecord(actor, method, url, status, dict(headers)))

    def client(self, actor: str, **options: Any) -> httpx.AsyncClient:
        """An HTTP client whose every exchange lands in this journal under ``actor``; it never
        follows redirects by itself (the attacks decide what a browser would do next)."""

        async def log(response: httpx.Response) -> None:
            request = response.request
            self.record(
                actor,
                request.method,
                str(request.url),
                response.status_code,
                relevant_headers(request.headers.multi_items(), response.headers.multi_items()),
            )

        return httpx.AsyncClient(
            follow_redirects=False,
            timeout=httpx.Timeout(15.0),
            event_hooks={"response": [log]},
            **options,
        )
