"""Where each secret of a run appeared, and for how long: the exposure table.

Secrets are found *by value*, from what the recording shows the parties handing each other
(:func:`find_secrets`): the code and tokens in redirect ``Location`` headers and token-endpoint
responses, the client secret and PKCE verifier in token requests, session cookies in
``Set-Cookie``. Then every observation of the run is searched for those values
(:func:`exposures`). Nothing is guessed from a field's name in the places searched.

Durations: a *held* place (address bar, history, JS memory, Web Storage, a client's store, a
server log) counts from the snapshot that first shows the value until the next snapshot that
does not, or the end of the run (a log line stays to the end: logs are kept). A *sent* place
(token response, API request, ``Referer``) is a transmission and counts 0 seconds.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from tokenpath.lab.recording import Exchange, Run

__all__ = [
    "BROWSER_PLACES",
    "PLACES",
    "SECRETS",
    "Exposure",
    "Secret",
    "exposures",
    "find_secrets",
]

PLACES = (
    "address-bar-query",
    "address-bar-fragment",
    "browser-history",
    "referer-header",
    "js-memory",
    "browser-storage",
    "server-log",
    "token-response",
    "client-session-store",
    "api-request",
)
"""The place names tools read (the lab's pages, ``tokenpath compare --json``)."""
BROWSER_PLACES = frozenset(PLACES[:6])
"""Places a script in the page, an extension or a person at the screen can read."""
SECRETS = {
    "authorization_code": "authorization code",
    "access_token": "access token",
    "refresh_token": "refresh token",
    "id_token": "ID token",
    "client_secret": "client secret",
    "code_verifier": "PKCE verifier",
    "session_cookie": "session cookie",
}
_FROM_PARAMS = {
    "code": "authorization_code",
    "access_token": "access_token",
    "refresh_token": "refresh_token",
    "id_token": "id_token",
    "client_secret": "client_secret",
    "code_verifier": "code_verifier",
}
_MIN_LENGTH = 8


@dataclass(frozen=True, slots=True)
class Secret:
    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class Exposure:
    secret: str
    place: str
    seconds: float
    first_seen: float
    """Seconds after the run started."""
    where: str
    """Which server, header, storage key or page: a short human note."""

    def brief(self) -> dict[str, object]:
        """The shape ``tokenpath compare --json`` prints."""
        return {"secret": self.secret, "place": self.place, "seconds": self.seconds}


def _url_params(url: str) -> Iterator[tuple[str, str]]:
    parts = urlsplit(url)
    yield from parse_qsl(parts.query)
    yield from parse_qsl(parts.fragment)


def _params_of(exchange: Exchange) -> Iterator[tuple[str, str]]:
    for location in exchange.header("location", response=True):
        yield from _url_params(location)
    if exchange.url.split("?")[0].endswith("/token") and exchange.method == "POST":
        yield from parse_qsl(exchange.request_body)
        for header in exchange.header("authorization"):
            yield from _basic_secret(header)
        try:
            body = json.loads(exchange.response_body or "null")
        except ValueError:
            body = None
        if isinstance(body, dict):
            yield from ((k, v) for k, v in body.items() if isinstance(v, str))


def _basic_secret(header: str) -> Iterator[tuple[str, str]]:
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "basic":
        return
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except ValueError:
        return
    _, _, secret = decoded.partition(":")
    yield "client_secret", unquote(secret)


def _cookies_set(exchange: Exchange) -> Iterator[str]:
    for header in exchange.header("set-cookie", response=True):
        name, _, rest = header.partition("=")
        value = rest.split(";")[0].strip().strip('"')
        if "session" in name.lower() and value:
            yield value


def find_secrets(run: Run) -> list[Secret]:
    """Every secret value the parties handed each other during the run, first sighting first."""
    found: dict[str, Secret] = {}
    for exchange in run.exchanges:
        pairs = [(_FROM_PARAMS.get(k), v) for k, v in _params_of(exchange)]
        pairs += [("session_cookie", v) for v in _cookies_set(exchange)]
        for kind, value in pairs:
            if kind is not None and len(value) >= _MIN_LENGTH and value not in found:
                found[value] = Secret(kind, value)
    return list(found.values())


def _contains(text: str, value: str) -> bool:
    return value in text or quote(value, safe="") in text


@dataclass(frozen=True, slots=True)
class _Sighting:
    place: str
    start: float
    end: float
    where: str


def _held(
    run: Run, value: str, snapshots: Iterable[tuple[float, dict[str, str]]], places: dict[str, str]
) -> Iterator[_Sighting]:
    """Presence in successive snapshots: each snapshot holds until the next one."""
    ordered = sorted(snapshots, key=lambda s: s[0])
    for index, (at, texts) in enumerate(ordered):
        until = ordered[index + 1][0] if index + 1 < len(ordered) else run.finished
        for key, text in texts.items():
            if _contains(text, value):
                yield _Sighting(places[key], at, until, key)


def _browser(run: Run, value: str) -> Iterator[_Sighting]:
    snapshots = []
    for snap in run.browser:
        parts = urlsplit(snap.url)
        texts = {
            "address-bar-query": parts.query,
            "address-bar-fragment": parts.fragment,
            "browser-history": "\n".join(snap.history),
        }
        texts |= {f"js-memory:{k}": v for k, v in snap.js.items()}
        texts |= {f"browser-storage:{k}": v for k, v in snap.storage.items()}
        snapshots.append((snap.at, texts))
    places = {key: key.split(":")[0] for _, texts in snapshots for key in texts}
    yield from _held(run, value, snapshots, places)


def _stores(run: Run, value: str) -> Iterator[_Sighting]:
    by_client: dict[str, list[tuple[float, dict[str, str]]]] = {}
    for snap in run.stores:
        by_client.setdefault(snap.client, []).append(
            (snap.at, {snap.client: "\n".join(snap.values.values())})
        )
    for client, snapshots in by_client.items():
        yield from _held(run, value, snapshots, {client: "client-session-store"})


def _sent(run: Run, value: str) -> Iterator[_Sighting]:
    for e in run.exchanges:
        where = f"{e.server}: {e.method} {e.url.split('?')[0]}"
        if any(_contains(r, value) for r in e.header("referer")):
            yield _Sighting("referer-header", e.at, e.at, where)
        if e.server == "api" and _contains(e.received(), value):
            yield _Sighting("api-request", e.at, e.at, where)
        if e.server == "as" and e.response_body and value in e.response_body:
            yield _Sighting("token-response", e.at, e.at, where)
    for line in run.logs:
        if _contains(line.message, value):
            yield _Sighting("server-log", line.at, run.finished, f"{line.server}: {line.logger}")


def exposures(run: Run) -> list[Exposure]:
    """One row per (secret, place): total seconds held, when first seen, where."""
    rows: dict[tuple[str, str], list[_Sighting]] = {}
    for secret in find_secrets(run):
        sightings = [*_browser(run, secret.value), *_stores(run, secret.value)]
        sightings += _sent(run, secret.value)
        for sighting in sightings:
            rows.setdefault((secret.kind, sighting.place), []).append(sighting)
    table = [
        Exposure(
            secret=kind,
            place=place,
            seconds=round(sum(max(0.0, s.end - s.start) for s in seen), 3),
            first_seen=round(min(s.start for s in seen) - run.started, 3),
            where=", ".join(dict.fromkeys(s.where for s in seen)),
        )
        for (kind, place), seen in rows.items()
    ]
    secret_order = list(SECRETS)
    return sorted(table, key=lambda x: (secret_order.index(x.secret), PLACES.index(x.place)))
