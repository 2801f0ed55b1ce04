"""A run's sequence diagram as a standalone SVG, drawn here from the recording.

Columns are the parties (browser, the client app, authorization server, API, and the attacker
when one took part); each recorded exchange is a request arrow and a dashed answer arrow, in the
order they happened, and each change of the browser's address bar is a note on its lifeline.
Every secret's value is replaced by its name in brackets (``[access token]``) and drawn in
red, so the diagram shows where each secret travelled without printing it. Nothing is fetched:
the SVG has no external reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import urlsplit

from tokenpath.lab.exposures import SECRETS, find_secrets
from tokenpath.lab.recording import Exchange, Run

__all__ = ["client_label", "mask", "sequence_svg"]

_CLIENTS = {
    "code": "Web app (server)",
    "refresh": "Web app (server)",
    "implicit": "Browser app host",
    "pkce": "Browser app host",
    "native": "CLI (loopback listener)",
    "client_credentials": "Machine client",
}
_SERVER_COLUMN = {"as": 2, "api": 3, "webapp": 1, "spa": 1, "attacker": 4}
_CALLER_COLUMN = {"browser": 0, "": 1, "webapp": 1, "spa": 1, "as": 2, "api": 3, "attacker": 4}
_COLUMN_WIDTH = 230
_ROW = 30
_TOP = 70
_MAX_LABEL = 58
_NOTED_EVENTS = {"navigation", "replaceState", "pushState", "hashchange"}


def client_label(flow: str) -> str:
    return _CLIENTS.get(flow, "Client app")


def mask(text: str, secrets: dict[str, str]) -> str:
    """``text`` with every secret value replaced by ``[its name]``."""
    for value, name in sorted(secrets.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(value, f"[{name}]")
    return text


def _names_secret(label: str) -> bool:
    return any(f"[{name}]" in label for name in SECRETS.values())


def _short(text: str) -> str:
    return text if len(text) <= _MAX_LABEL else text[: _MAX_LABEL - 1] + "…"


@dataclass(frozen=True, slots=True)
class _Row:
    at: float
    start: int
    end: int
    label: str
    kind: str  # request | answer | note


def _skipped(exchange: Exchange) -> bool:
    path = urlsplit(exchange.url).path
    return path.startswith("/static/") or path == "/favicon.ico"


def _answer_label(exchange: Exchange) -> str:
    locations = exchange.header("location", response=True)
    if locations:
        return f"{exchange.status} → {locations[0]}"
    if exchange.response_body:
        return f"{exchange.status} {exchange.response_body}"
    return str(exchange.status)


def _rows(run: Run, secrets: dict[str, str]) -> list[_Row]:
    rows: list[_Row] = []
    for e in run.exchanges:
        if _skipped(e):
            continue
        caller = _CALLER_COLUMN.get(e.caller, 1)
        server = _SERVER_COLUMN.get(e.server, 1)
        rows.append(_Row(e.at, caller, server, f"{e.method} {e.url}", "request"))
        if e.answered:
            rows.append(_Row(e.answered, server, caller, _answer_label(e), "answer"))
    last_url = ""
    for snap in run.browser:
        if snap.event in _NOTED_EVENTS and snap.url != last_url and snap.url != "about:blank":
            rows.append(_Row(snap.at, 0, 0, f"address bar: {snap.url}", "note"))
            last_url = snap.url
    rows.sort(key=lambda r: r.at)
    return [_Row(r.at, r.start, r.end, _short(mask(r.label, secrets)), r.kind) for r in rows]


def _x(column: int) -> int:
    return 120 + column * _COLUMN_WIDTH


def _arrow(row: _Row, y: int) -> str:
    x1, x2 = _x(row.start), _x(row.end)
    dash = ' stroke-dasharray="5 4"' if row.kind == "answer" else ""
    cls = "secret" if _names_secret(row.label) else "label"
    if x1 == x2:  # a party calling itself: a small loop
        path = f"M{x1},{y} h40 v12 h-40"
        line = f'<path d="{path}" class="arrow"{dash} fill="none" marker-end="url(#head)"/>'
        text_x = x1 + 46
        anchor = "start"
    else:
        line = (
            f'<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" class="arrow"{dash} '
            'marker-end="url(#head)"/>'
        )
        text_x = (x1 + x2) // 2
        anchor = "middle"
    text = (
        f'<text x="{text_x}" y="{y - 5}" class="{cls}" text-anchor="{anchor}">'
        f"{escape(row.label)}</text>"
    )
    return line + text


def _note(row: _Row, y: int) -> str:
    cls = "secret" if _names_secret(row.label) else "label"
    width = 7 * len(row.label) + 12
    return (
        f'<rect x="{_x(0) + 8}" y="{y - 16}" width="{width}" height="20" class="note"/>'
        f'<text x="{_x(0) + 14}" y="{y - 2}" class="{cls}">{escape(row.label)}</text>'
    )


_STYLE = (
    "text{font-family:ui-monospace,monospace;font-size:11px}"
    ".party{font-family:system-ui,sans-serif;font-size:13px;font-weight:600}"
    ".label{fill:#222}.secret{fill:#b00020;font-weight:600}"
    ".arrow{stroke:#333;stroke-width:1.2}.life{stroke:#999;stroke-dasharray:2 3}"
    ".note{fill:#fff8c4;stroke:#c9b200}.head{fill:#e8eef7;stroke:#4a6fa5}"
)


def sequence_svg(run: Run) -> str:
    """The SVG document (UTF-8 text)."""
    secrets = {s.value: SECRETS[s.kind] for s in find_secrets(run)}
    rows = _rows(run, secrets)
    parties = ["Browser", client_label(run.flow), "Authorization server", "API"]
    if any(e.server == "attacker" or e.caller == "attacker" for e in run.exchanges):
        parties.append("Attacker")
    width = _x(len(parties) - 1) + 360
    height = _TOP + _ROW * (len(rows) + 1) + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(run.title)}">',
        f"<title>{escape(run.title)} — tokenpath flow lab run {escape(run.run_id)}</title>",
        f"<style>{_STYLE}</style>",
        '<defs><marker id="head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#333"/></marker></defs>',
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
    ]
    for column, party in enumerate(parties):
        x = _x(column)
        parts.append(f'<rect x="{x - 95}" y="12" width="190" height="30" rx="4" class="head"/>')
        parts.append(
            f'<text x="{x}" y="32" text-anchor="middle" class="party">{escape(party)}</text>'
        )
        parts.append(f'<line x1="{x}" y1="42" x2="{x}" y2="{height - 10}" class="life"/>')
    for index, row in enumerate(rows):
        y = _TOP + _ROW * index + 10
        parts.append(_note(row, y) if row.kind == "note" else _arrow(row, y))
    parts.append("</svg>")
    return "\n".join(parts)
