"""DELIBERATELY VULNERABLE (lab only): browser pages built to be attacked.

* ``/attacks/insecure/naive/`` — an implicit client that accepts any access token arriving in
  its fragment (RFC 9700 §4.6: access token injection);
* ``/attacks/insecure/checked/`` — the same page refusing a token issued to another client;
* ``/attacks/insecure/leaky/`` — a careless page that keeps the authorization response in its
  address and loads a third-party image under ``Referrer-Policy: unsafe-url`` (§4.2, §4.3).

Each page says on its face that it is vulnerable. Scripts are files (``script-src 'self'``), so
the only lessons are the ones named. They need the lab origin in the authorization server's and
the demo API's CORS origins (the lab stack configures both).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tokenpath.lab.attacks.actors import LabActors
from tokenpath.lab.attacks.target import AttackTarget
from tokenpath.lab.attacks.templating import render

__all__ = ["insecure_page_routes"]


def _csp(target: AttackTarget, *, images: str = "'self'") -> str:
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        f"img-src {images}; connect-src {target.issuer} {target.api_url}; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


def insecure_page_routes(
    target: AttackTarget, actors: Callable[[], Awaitable[LabActors]]
) -> list[Route]:
    def page(check: str) -> Callable[[Request], Awaitable[Response]]:
        async def naive(request: Request) -> Response:
            found = await actors()
            path = "checked" if check else "naive"
            return render(
                request,
                "attack_insecure_page.html",
                headers={"Content-Security-Policy": _csp(target), "Referrer-Policy": "no-referrer"},
                heading="Implicit client that checks whom a token was issued to"
                if check
                else "Naive implicit client",
                explanation="It reads an access token from its URL fragment and calls the API "
                + (
                    "only if the token was issued to this page's own client."
                    if check
                    else "with whatever token it finds there, without asking where it came from."
                ),
                issuer=target.issuer,
                api=target.api_url,
                client_id=found.insecure_implicit_id,
                pkce_client_id="",
                redirect_uri=target.lab_path(f"/insecure/{path}/"),
                check=check,
                pixel="",
                referrer="",
                script=target.lab_path("/static/insecure_naive.js"),
            )

        return naive

    async def leaky(request: Request) -> Response:
        found = await actors()
        pixel = f"{target.attacker_url}/pixel.gif"
        return render(
            request,
            "attack_insecure_page.html",
            headers={
                "Content-Security-Policy": _csp(target, images=f"'self' {target.attacker_url}"),
                "Referrer-Policy": "unsafe-url",  # the flaw: full URLs go to third parties
            },
            heading="Careless page (permissive Referrer-Policy)",
            explanation="It leaves the authorization response in its address and shows an "
            "image from a third party; its server sends Referrer-Policy: unsafe-url.",
            issuer=target.issuer,
            api=target.api_url,
            client_id=found.insecure_implicit_id,
            pkce_client_id=found.insecure_pkce_id,
            redirect_uri=target.lab_path("/insecure/leaky/"),
            check="",
            pixel=pixel,
            referrer="unsafe-url",  # also in the page: a lab page's own meta may be stricter
            script=target.lab_path("/static/insecure_leaky.js"),
        )

    return [
        Route("/insecure/naive/", page("")),
        Route("/insecure/checked/", page("audience")),
        Route("/insecure/leaky/", leaky),
    ]
