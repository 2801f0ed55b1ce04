"""The attack playground's pages, mounted by the lab app at ``/attacks``.

* ``GET /attacks/`` — every attack, its RFC 9700 section and modes;
* ``GET /attacks/{id}`` — one attack, with a button per mode;
* ``POST /attacks/{id}/{mode}`` — run it for real and show the report (what the attacker did,
  each request, the outcome and why); ``POST /attacks/api/{id}/{mode}`` answers the report
  as JSON (409 with the reason when the mode is unavailable here);
* ``/attacks/insecure/...`` — the deliberately vulnerable lab-only clients the attacks use;
* ``/attacks/static/...`` — their scripts.

Runs are started only by a POST from the lab's own origin.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from tokenpath.lab.attacks.actors import LabActors, lab_actors
from tokenpath.lab.attacks.engine import AttackError, run_attack
from tokenpath.lab.attacks.insecure_pages import insecure_page_routes
from tokenpath.lab.attacks.insecure_web_client import create_insecure_web_client
from tokenpath.lab.attacks.registry import ATTACKS, find_attack
from tokenpath.lab.attacks.report import AttackReport, AttackUnavailable
from tokenpath.lab.attacks.target import AttackTarget
from tokenpath.lab.attacks.templating import render

__all__ = ["routes"]

STATIC = Path(__file__).parent / "static"


def routes(target: AttackTarget) -> list[BaseRoute]:
    """The playground's routes, for the lab app to mount at ``/attacks``."""

    async def actors() -> LabActors:
        return await lab_actors(target)

    def same_origin(request: Request) -> bool:
        """Fetch metadata when the browser sends it (the lab's pages send no Referer, so a form
        POST carries ``Origin: null``), else the Origin header, if any."""
        site = request.headers.get("sec-fetch-site")
        if site is not None:
            return site in ("same-origin", "none")
        return request.headers.get("origin", target.lab_url) == target.lab_url

    async def index(request: Request) -> Response:
        return render(request, "attack_index.html", attacks=ATTACKS, target=target)

    async def detail(request: Request) -> Response:
        attack = find_attack(request.path_params["attack_id"])
        if attack is None:
            return render(request, "attack_index.html", attacks=ATTACKS, status_code=404)
        return render(request, "attack_detail.html", attack=attack, report=None, problem=None)

    async def attempt(request: Request) -> tuple[AttackReport | None, str | None, int]:
        attack_id, mode = request.path_params["attack_id"], request.path_params["mode"]
        attack = find_attack(attack_id)
        if attack is None or attack.mode(mode) is None:
            return None, f"no attack {attack_id!r} with mode {mode!r}", 404
        if not same_origin(request):
            return None, "attacks are started from the lab's own pages only", 403
        try:
            return await run_attack(attack_id, mode, target), None, 200
        except AttackUnavailable as error:
            return None, f"This mode is not available here: {error}", 409
        except AttackError as error:
            return None, str(error), 502

    async def run_page(request: Request) -> Response:
        report, problem, status = await attempt(request)
        attack = find_attack(request.path_params["attack_id"])
        if attack is None:
            return render(request, "attack_index.html", attacks=ATTACKS, status_code=404)
        return render(
            request,
            "attack_detail.html",
            attack=attack,
            report=report,
            problem=problem,
            status_code=status,
        )

    async def run_json(request: Request) -> Response:
        report, problem, status = await attempt(request)
        if report is None:
            return JSONResponse({"error": problem}, status_code=status)
        return JSONResponse(report.to_json(), headers={"Cache-Control": "no-store"})

    return [
        Route("/", index),
        Mount("/static", StaticFiles(directory=STATIC), name="attack-static"),
        Mount("/insecure/no-state", create_insecure_web_client(target, actors, pkce=False)),
        Mount("/insecure/no-state-pkce", create_insecure_web_client(target, actors, pkce=True)),
        *insecure_page_routes(target, actors),
        Route("/api/{attack_id}/{mode}", run_json, methods=["POST"]),
        Route("/{attack_id}", detail),
        Route("/{attack_id}/{mode}", run_page, methods=["POST"]),
    ]
