"""The attacker's origin: a separate loopback server that only the lab runs.

It plays what an attacker controls in each attack and writes down what reached it ("loot"):

* ``GET /callback`` — the malicious app's loopback listener on the victim's device (RFC 8252
  §8.1): whatever code the redirect brings, it keeps, by ``state``;
* ``GET /pixel.gif`` — a third-party "analytics" image: it keeps the ``Referer`` of every load;
* ``GET /csrf?to=`` — a page that sends the visitor's browser to ``to`` (a lab or demo URL only);
* ``GET /loot?key=`` — what was kept under a key, as JSON (the attack engine reads it back).

Nothing is kept beyond :data:`MAX_KEYS` keys of :data:`MAX_ENTRIES` entries, in memory only.
"""

from __future__ import annotations

import base64
import html
from collections import OrderedDict

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from tokenpath.lab.attacks.target import AttackTarget

__all__ = ["Loot", "create_attacker_app"]

MAX_KEYS = 200
MAX_ENTRIES = 50
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
BANNER = (
    "<p><strong>Attacker origin (lab only).</strong> This server plays the attacker in the "
    "tokenpath attack playground; it only ever talks to the lab's own loopback servers.</p>"
)


class Loot:
    """What reached the attacker, by key, bounded in keys and entries."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, list[dict[str, str]]] = OrderedDict()

    def keep(self, key: str, entry: dict[str, str]) -> None:
        entries = self._entries.setdefault(key, [])
        self._entries.move_to_end(key)
        entries.append(entry)
        del entries[:-MAX_ENTRIES]
        while len(self._entries) > MAX_KEYS:
            self._entries.popitem(last=False)

    def get(self, key: str) -> list[dict[str, str]]:
        return list(self._entries.get(key, []))


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    text = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title></head>"
        f"<body><h1>{title}</h1>{BANNER}{body}</body></html>"
    )
    headers = {"Content-Security-Policy": "default-src 'none'", "Cache-Control": "no-store"}
    return HTMLResponse(text, status_code=status, headers=headers)


def create_attacker_app(target: AttackTarget) -> ASGIApp:
    """The attacker's loopback server for the lab stack (served on ``target.attacker_url``)."""
    loot = Loot()
    allowed = (target.lab_url, target.webapp_url, target.spa_url)

    async def home(request: Request) -> Response:
        return _page("Attacker (lab)", "<p>Run the attacks from the lab's Attacks page.</p>")

    async def callback(request: Request) -> Response:
        params = dict(request.query_params)
        loot.keep(f"callback:{params.get('state', '')}", params)
        return _page("Thanks!", "<p>The malicious app received this redirect and kept it.</p>")

    async def pixel(request: Request) -> Response:
        loot.keep("pixel", {"referer": request.headers.get("referer", "")})
        return Response(PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"})

    async def csrf(request: Request) -> Response:
        to = request.query_params.get("to", "")
        if not any(to.startswith(f"{origin}/") for origin in allowed):
            return _page("Refused", "<p>This page only sends browsers to the lab.</p>", 400)
        quoted = html.escape(to, quote=True)
        response = _page("You won a prize!", f'<p><a href="{quoted}">Continue</a></p>')
        response.headers["Refresh"] = f"0; url={to}"
        return response

    async def read_loot(request: Request) -> Response:
        return JSONResponse(loot.get(request.query_params.get("key", "")))

    return Starlette(
        routes=[
            Route("/", home),
            Route("/callback", callback),
            Route("/pixel.gif", pixel),
            Route("/csrf", csrf),
            Route("/loot", read_loot),
        ]
    )
