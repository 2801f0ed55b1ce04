"""The lab's web pages, on their own loopback origin in ``tokenpath demo`` (never in ``serve``).

* ``GET /`` — start a run of any flow; the recent runs.
* ``POST /runs`` (form ``flow``) — run it for real now, then 303 to its page.
* ``GET /runs/{id}`` — the sequence diagram, the exposure table, the exchanges and log lines;
  ``/runs/{id}.json`` and ``/runs/{id}.svg`` export the recording and the diagram.
* ``GET /compare?a=ID&b=ID`` — two runs side by side (default: the newest code and implicit runs).
* ``/attacks`` and ``/advisor`` — the playground and the advisor, when installed.

Every page says that the lab contains deliberately vulnerable modes. The pages run no script.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.templating import Jinja2Templates

from tokenpath.clients.headers import SecurityHeaders
from tokenpath.lab.browser import INSTALL_HINT, LabUnavailable
from tokenpath.lab.comparison import compare
from tokenpath.lab.diagram import client_label, mask, sequence_svg
from tokenpath.lab.exposures import BROWSER_PLACES, PLACES, SECRETS, exposures, find_secrets
from tokenpath.lab.extensions import Extensions
from tokenpath.lab.recording import FLOWS, Run
from tokenpath.lab.runner import Lab

__all__ = ["create_lab_app"]

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def _run_view(run: Run) -> dict[str, Any]:
    secrets = {s.value: SECRETS[s.kind] for s in find_secrets(run)}
    table = exposures(run)
    reached = {x.secret for x in table}
    return {
        "run": run,
        "client": client_label(run.flow),
        "exposures": table,
        "unexposed": sorted({SECRETS[s.kind] for s in find_secrets(run) if s.kind not in reached}),
        "exchanges": [
            (
                e,
                mask(e.url, secrets),
                [mask(v, secrets) for v in e.header("location", response=True)],
            )
            for e in run.exchanges
        ],
        "logs": [(line, mask(line.message, secrets)) for line in run.logs],
    }


class _Pages:
    def __init__(self, lab: Lab) -> None:
        self.lab = lab

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        context |= {"flows": FLOWS, "secrets": SECRETS, "places": PLACES}
        context |= {"browser_places": BROWSER_PLACES}
        return TEMPLATES.TemplateResponse(request, name, context, status_code=status)

    async def index(self, request: Request) -> Response:
        return self.page(request, "lab_index.html", runs=await self.lab.store.recent())

    async def start(self, request: Request) -> Response:
        # a form of another origin (another demo port is "same-site") must not start runs;
        # the lab's pages send no Referer, so their Origin is "null": Sec-Fetch-Site decides
        origin = request.headers.get("origin")
        fetch_site = request.headers.get("sec-fetch-site", "same-origin")
        if fetch_site != "same-origin" or origin not in (None, "null", self.lab.config.lab_url):
            return self.page(request, "lab_error.html", 403, message="Runs start from the lab.")
        flow = _form_field(await request.body(), "flow")
        if flow not in FLOWS:
            return self.page(request, "lab_error.html", 400, message="Unknown flow.")
        try:
            run = await self.lab.run(flow)
        except LabUnavailable:
            return self.page(request, "lab_error.html", 503, message=INSTALL_HINT)
        return RedirectResponse(f"/runs/{run.run_id}", status_code=303)

    async def new(self, request: Request) -> Response:
        """``/runs/new?flow=code``: the one flow's start button (the advisor links here). A GET
        never starts a run; the button posts to ``/runs`` like the index page's."""
        flow = request.query_params.get("flow", "")
        if flow not in FLOWS:
            return self.page(request, "lab_error.html", 404, message="Unknown flow.")
        return self.page(request, "lab_new.html", flow=flow, title=FLOWS[flow])

    async def _run(self, request: Request) -> Run | None:
        return await self.lab.store.get(request.path_params["run_id"])

    async def show(self, request: Request) -> Response:
        run = await self._run(request)
        if run is None:
            return self.page(request, "lab_error.html", 404, message="No such run.")
        return self.page(request, "lab_run.html", **_run_view(run))

    async def export_json(self, request: Request) -> Response:
        run = await self._run(request)
        if run is None:
            return Response('{"error": "not_found"}', 404, media_type="application/json")
        body = run.to_json() | {"exposures": [_full(x) for x in exposures(run)]}
        headers = {"Content-Disposition": f'attachment; filename="run-{run.run_id}.json"'}
        return JSONResponse(body, headers=headers)

    async def export_svg(self, request: Request) -> Response:
        run = await self._run(request)
        if run is None:
            return Response("no such run", 404)
        return Response(sequence_svg(run), media_type="image/svg+xml")

    async def comparison(self, request: Request) -> Response:
        store = self.lab.store
        a = request.query_params.get("a") or await store.latest("code")
        b = request.query_params.get("b") or await store.latest("implicit")
        left = await store.get(a) if a else None
        right = await store.get(b) if b else None
        rows = compare(exposures(left), exposures(right)) if left and right else []
        return self.page(
            request,
            "lab_compare.html",
            left=left,
            right=right,
            rows=rows,
            runs=await store.recent(),
        )

    async def stylesheet(self, request: Request) -> Response:
        return FileResponse(HERE / "static" / "lab.css", media_type="text/css")

    async def favicon(self, request: Request) -> Response:
        return FileResponse(HERE / "static" / "favicon.svg", media_type="image/svg+xml")


def _form_field(body: bytes, name: str) -> str:
    """One field of the lab's own urlencoded form (a few bytes; no multipart parser needed)."""
    values = parse_qs(body[:4096].decode("latin-1")).get(name, [])
    return values[0] if len(values) == 1 else ""


def _full(x: Any) -> dict[str, Any]:
    return {
        "secret": x.secret,
        "place": x.place,
        "seconds": x.seconds,
        "first_seen": x.first_seen,
        "where": x.where,
    }


def create_lab_app(
    lab: Lab, extensions: Extensions, *, middleware: Sequence[Middleware] = ()
) -> Starlette:
    pages = _Pages(lab)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await lab.close()

    routes: list[BaseRoute] = [
        Route("/", pages.index),
        Route("/runs", pages.start, methods=["POST"]),
        Route("/runs/new", pages.new),
        Route("/runs/{run_id}.json", pages.export_json),
        Route("/runs/{run_id}.svg", pages.export_svg),
        Route("/runs/{run_id}", pages.show),
        Route("/compare", pages.comparison),
        Route("/static/lab.css", pages.stylesheet),
        Route("/static/favicon.svg", pages.favicon),
    ]
    if extensions.attack_routes:
        routes.append(Mount("/attacks", routes=extensions.attack_routes))
    if extensions.advisor_routes:
        routes.append(Mount("/advisor", routes=extensions.advisor_routes))
    return Starlette(
        routes=routes,
        middleware=[*middleware, Middleware(SecurityHeaders, csp=CSP)],
        lifespan=lifespan,
    )
