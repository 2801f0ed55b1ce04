"""The server's Prometheus metrics: what is recorded, and how a scrape reads it.

Every name starts with ``tokenpath_``; docs/howto/monitoring.md lists them with what to alert on.
Labels hold only values the server chose (route templates, registered error codes, supported
grant types, event names), never request data, so their number stays small whatever clients send.

With ``serve --workers N`` each worker is its own process: ``serve`` points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory before the workers start, each worker writes
its figures there, and the management listener (in the supervising process) adds them up
(:func:`registry`). In one process the default registry is read directly.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qs, urlsplit

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from tokenpath.core.events import Event, EventSink

__all__ = [
    "MULTIPROCESS_VARIABLE",
    "CountingEventSink",
    "KeyAges",
    "count_redirect",
    "count_response",
    "grant_issued",
    "oauth_error",
    "observe_request",
    "pool_in_use",
    "registry",
    "render",
]

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter(
    "tokenpath_http_requests_total",
    "HTTP requests answered, by endpoint (route template), method and status code.",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "tokenpath_http_request_duration_seconds",
    "Time to answer an HTTP request, by endpoint (route template) and method.",
    ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
GRANTS = Counter(
    "tokenpath_grants_issued_total",
    "Access tokens issued, by grant type (implicit: at the authorization endpoint).",
    ["grant_type"],
)
OAUTH_ERRORS = Counter(
    "tokenpath_oauth_errors_total",
    "OAuth error responses (JSON, error pages and error redirects), by error code.",
    ["error"],
)
THROTTLES = Counter(
    "tokenpath_throttle_trips_total",
    "Requests a brute-force limit held back, by limit (login, client_auth).",
    ["limit"],
)
EVENTS = Counter(
    "tokenpath_security_events_total",
    "Security events (docs/decisions/0011-security-events.md), by event name and outcome.",
    ["event", "outcome"],
)
POOL = Gauge(
    "tokenpath_db_pool_connections",
    "Database pool connections of the server processes, by state (open, in_use).",
    ["state"],
    multiprocess_mode="livesum",
)


def observe_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(endpoint, method, str(status)).inc()
    LATENCY.labels(endpoint, method).observe(seconds)


def oauth_error(code: str) -> None:
    """One OAuth error answered (``code`` is the server's own ``error`` value)."""
    OAUTH_ERRORS.labels(code[:64]).inc()


def grant_issued(grant_type: str) -> None:
    GRANTS.labels(grant_type[:128]).inc()


def count_redirect(location: str) -> None:
    """Count what a redirect to a client carries: an error, or implicit-flow tokens."""
    parts = urlsplit(location)
    for params in (parse_qs(parts.query), parse_qs(parts.fragment)):
        count_response({k: v[0] for k, v in params.items()})


def count_response(fields: Mapping[str, str]) -> None:
    """Count an authorization response's parameters (a redirect's or a form post's)."""
    if "error" in fields:
        oauth_error(fields["error"])
    elif "access_token" in fields:
        grant_issued("implicit")


def pool_in_use(open_connections: int, idle: int) -> None:
    POOL.labels("open").set(open_connections)
    POOL.labels("in_use").set(max(open_connections - idle, 0))


class CountingEventSink:
    """Counts every security event (and throttle trips), then hands it on to ``sink``.

    It counts before the log sink folds repeated throttle events into one line, so the rate of
    an attack shows in the metrics even while the log stays short.
    """

    def __init__(self, sink: EventSink) -> None:
        self._sink = sink

    def emit(self, event: Event) -> None:
        EVENTS.labels(str(event.name), event.outcome).inc()
        if event.outcome == "throttled":
            THROTTLES.labels(str(event.name).split(".", 1)[0]).inc()
        self._sink.emit(event)


class KeyAges(Collector):
    """``tokenpath_signing_key_age_seconds``: the age of each signing key not retired, read from
    the database at scrape time (role ``signing`` for the key that signs, ``published`` for the
    others)."""

    def __init__(self, ages: Iterable[tuple[str, str, int]]) -> None:
        self._ages = list(ages)

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "tokenpath_signing_key_age_seconds",
            "Seconds since each active signing key was created, by kid and role.",
            labels=["kid", "role"],
        )
        for kid, role, age in self._ages:
            family.add_metric([kid, role], age)
        yield family


def registry(environ: Mapping[str, str] | None = None) -> CollectorRegistry:
    """Where a scrape reads this server's figures: every worker's, added up, when the workers
    write to a multiprocess directory; this process's own otherwise."""
    directory = (os.environ if environ is None else environ).get(MULTIPROCESS_VARIABLE)
    if not directory:
        return REGISTRY
    combined = CollectorRegistry()
    MultiProcessCollector(combined, path=directory)  # type: ignore[no-untyped-call]
    return combined


def render(source: CollectorRegistry, *extra: Collector) -> bytes:
    """The Prometheus text exposition of ``source`` followed by ``extra`` collectors."""
    text = generate_latest(source)
    if extra:
        more = CollectorRegistry()
        for collector in extra:
            more.register(collector)
        text += generate_latest(more)
    return text
