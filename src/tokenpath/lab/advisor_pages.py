"""The advisor's page, mounted by the lab app at ``/advisor``.

``GET /advisor/`` shows the questions (:data:`~tokenpath.lab.advisor.QUESTIONS`) as a form;
submitted (still a GET: nothing changes on the server), the same page shows the recommendation
of :func:`~tokenpath.lab.advisor.advise`, its reasons and RFC sections, and a link to the lab
run of that flow. ``GET /advisor/api`` answers the same recommendation as JSON.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tokenpath.lab.advisor import QUESTIONS, Profile, advise
from tokenpath.lab.attacks.templating import render

__all__ = ["routes"]


def _profile(request: Request) -> Profile | None:
    """The answers in the query (``yes`` means yes), or None when nothing was asked yet."""
    query = request.query_params
    if not any(q.field in query for q in QUESTIONS):
        return None
    return Profile(**{q.field: query.get(q.field) == "yes" for q in QUESTIONS})


def routes() -> list[BaseRoute]:
    async def page(request: Request) -> Response:
        profile = _profile(request)
        return render(
            request,
            "advisor.html",
            questions=QUESTIONS,
            answers=request.query_params,
            recommendation=advise(profile) if profile else None,
        )

    async def api(request: Request) -> Response:
        return JSONResponse(advise(_profile(request) or Profile()).to_json())

    return [Route("/", page), Route("/api", api)]
