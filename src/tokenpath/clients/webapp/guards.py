"""Request guards and small answers of the demo web app: its CSP, same-origin form posts,
constant-time comparisons and the JSON refusal of the back-channel endpoint.

Apart from ``app.py`` so the routes read as the flow they implement.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tokenpath.clients.webapp.config import WebappConfig

__all__ = ["CSP", "csp_for", "refused", "same", "same_origin_post"]

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)


def csp_for(config: WebappConfig) -> str:
    """Browsers apply ``form-action`` to the redirects a form POST leads to, so "Sign out"
    (a POST answered with a 303 to the server's end-session endpoint) needs the issuer's origin."""
    issuer = urlsplit(config.issuer)
    return CSP.replace(
        "form-action 'self'", f"form-action 'self' {issuer.scheme}://{issuer.netloc}"
    )


def refused(reason: str) -> Response:
    return JSONResponse({"error": "invalid_request", "error_description": reason}, 400)


def same(given: str, expected: str) -> bool:
    """Constant-time comparison that also accepts non-ASCII input (it simply does not match)."""
    return secrets.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode())


def same_origin_post(request: Request) -> bool:
    """Refuse cross-origin form posts. SameSite=Lax does not help here: every port on
    127.0.0.1 is the *same site*. ``Sec-Fetch-Site`` is sent by browsers (not by scripts that
    hold no cookie anyway); ``Origin`` cannot be used because no-referrer makes it ``null``."""
    return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")
