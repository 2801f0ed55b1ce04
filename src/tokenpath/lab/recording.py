"""What a lab run saw, as plain data: HTTP exchanges, log lines and browser observations.

A run is the unit of the lab: everything the demo servers received and sent while one flow ran,
plus what only the browser could see. Invariants:

* every item carries the run's clock (``time.time()`` of this process) in ``at``, so durations
  compare across servers and the browser;
* ``hop`` numbers the exchanges of a run in the order their requests arrived (1, 2, ...);
* nothing here decides what is a secret: :mod:`tokenpath.lab.exposures` finds secrets by value.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "FLOWS",
    "BrowserSnapshot",
    "Exchange",
    "LogLine",
    "Run",
    "StoreSnapshot",
    "run_from_json",
]

FLOWS: dict[str, str] = {
    "code": "Authorization code (confidential web app)",
    "implicit": "Implicit (browser app)",
    "pkce": "Authorization code + PKCE (browser app)",
    "native": "Native / CLI: code + PKCE, loopback redirect",
    "client_credentials": "Client credentials (machine to machine)",
    "refresh": "Refresh (web app renews its access token)",
}
"""Every flow the lab can run, with the title its pages show."""

RECORDED_HEADERS = frozenset(
    {"location", "set-cookie", "cookie", "referer", "authorization", "dpop", "user-agent"}
)
"""The headers kept (the issue's list; ``user-agent`` tells the browser from a client's server)."""


@dataclass(slots=True)
class Exchange:
    """One HTTP request a demo server received and the answer it sent."""

    hop: int
    at: float
    server: str
    method: str
    url: str
    request_headers: list[tuple[str, str]]
    request_body: str = ""
    status: int = 0
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: str = ""
    """Kept for token responses only (``/token``): the JSON the client received."""
    answered: float = 0.0
    """When the response started (0: it never did)."""
    caller: str = ""
    """``browser``; or the demo server whose own request was in flight when this one arrived
    (the web app redeeming a code, the API fetching keys); empty: the flow's own client."""

    def header(self, name: str, *, response: bool = False) -> list[str]:
        headers = self.response_headers if response else self.request_headers
        return [v for k, v in headers if k == name]

    @property
    def from_browser(self) -> bool:
        """Browsers say ``Mozilla``; the demo's own HTTP clients (httpx) do not."""
        return any("Mozilla" in v for v in self.header("user-agent"))

    def received(self) -> str:
        """Everything the server received: request line, kept headers, body."""
        lines = [f"{self.method} {self.url}", self.request_body]
        lines += [f"{k}: {v}" for k, v in self.request_headers if k != "user-agent"]
        return "\n".join(lines)


@dataclass(slots=True)
class LogLine:
    """A log record a demo server wrote while handling a request of the run."""

    at: float
    server: str
    logger: str
    level: str
    message: str


@dataclass(slots=True)
class BrowserSnapshot:
    """What the browser held at one moment, reported by the lab script in the page.

    ``url`` is the address bar (fragment included); ``history`` the tab's session-history
    entries; ``js`` the values the page's script holds (read through its read-only hook);
    ``storage`` localStorage, sessionStorage and the cookie jar of the page's origin.
    """

    at: float
    event: str
    url: str
    history: list[str] = field(default_factory=list)
    js: dict[str, str] = field(default_factory=dict)
    storage: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class StoreSnapshot:
    """What a client kept on its own side (the web app's session table, the CLI's memory)."""

    at: float
    client: str
    values: dict[str, str]


@dataclass(slots=True)
class Run:
    run_id: str
    flow: str
    started: float
    finished: float = 0.0
    outcome: str = "running"
    """``ok``, or why the run stopped (the lab shows it; a failed run is still recorded)."""
    exchanges: list[Exchange] = field(default_factory=list)
    logs: list[LogLine] = field(default_factory=list)
    browser: list[BrowserSnapshot] = field(default_factory=list)
    stores: list[StoreSnapshot] = field(default_factory=list)

    @property
    def title(self) -> str:
        return FLOWS.get(self.flow, self.flow)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def dumps(self) -> str:
        return json.dumps(self.to_json(), separators=(",", ":"))


def run_from_json(data: dict[str, Any]) -> Run:
    def pairs(items: list[list[str]]) -> list[tuple[str, str]]:
        return [(k, v) for k, v in items]

    exchanges = [
        Exchange(
            **{
                **e,
                "request_headers": pairs(e["request_headers"]),
                "response_headers": pairs(e["response_headers"]),
            }
        )
        for e in data["exchanges"]
    ]
    return Run(
        run_id=data["run_id"],
        flow=data["flow"],
        started=data["started"],
        finished=data["finished"],
        outcome=data["outcome"],
        exchanges=exchanges,
        logs=[LogLine(**x) for x in data["logs"]],
        browser=[BrowserSnapshot(**x) for x in data["browser"]],
        stores=[StoreSnapshot(**x) for x in data["stores"]],
    )
