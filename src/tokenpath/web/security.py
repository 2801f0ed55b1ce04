"""Browser-facing defences: security headers, cookies, sessions and CSRF.

Invariants:

* Every response carries ``X-Frame-Options: DENY`` and a CSP with ``frame-ancestors 'none'``
  (RFC 9700 §4.16 clickjacking), ``Referrer-Policy: no-referrer`` (§4.2.4: codes and state must
  not leak through Referer) and ``nosniff``. The CSP has no ``form-action``: browsers apply it to
  the redirect that follows the consent POST, which would block the way back to the client.
* Every interactive or credential-bearing response is ``Cache-Control: no-store``.
* Under an https issuer every response also carries ``Strict-Transport-Security`` (RFC 9700
  §2.6, RFC 6797), so a browser that once reached the server never tries plain http again.
* Every state-changing form (login, consent, logout) is protected by a double-submit token: a
  random ``tp_csrf`` cookie (HttpOnly, SameSite=Strict) that must equal a hidden field, plus
  Fetch Metadata and ``Origin`` checks when the browser sends them.
* The sign-in form's token is single-use: ``POST /login`` consumes it in the shared replay cache
  (:func:`csrf_replay_key`), and every answer to that POST sets a fresh one, so one token cannot
  drive any number of password guesses, in parallel or in sequence.
* The session cookie holds only the random session id; the server stores its hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tokenpath.core.clock import TokenSource, constant_time_equals, hash_token

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "SECURITY_HEADERS",
    "CookieNames",
    "SecurityHeadersMiddleware",
    "csrf_replay_key",
    "csrf_token",
    "csrf_valid",
]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
)
"""Sent on every response (RFC 9700 §4.16 clickjacking, §4.2.4 Referer leakage)."""
_ALWAYS = tuple((k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS)
_HSTS = (b"strict-transport-security", b"max-age=31536000")
"""One year; no ``includeSubDomains``: the issuer's parent domain is the operator's to decide."""
_CACHEABLE_PREFIXES = ("/static/", "/jwks", "/.well-known/")
"""Public, secret-free documents; everything else is answered with ``no-store``."""


class SecurityHeadersMiddleware:
    """Pure ASGI middleware adding the headers above; a header the app set itself is kept.

    ``hsts`` adds ``Strict-Transport-Security``: the app turns it on whenever its issuer is https.
    """

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self._always = [*_ALWAYS, _HSTS] if hsts else list(_ALWAYS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        extra = list(self._always)
        if not path.startswith(_CACHEABLE_PREFIXES):
            extra.append((b"cache-control", b"no-store"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend((k, v) for k, v in extra if k not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class CookieNames:
    """Cookie names and attributes; ``__Host-`` names and ``Secure`` when the issuer is https.

    The ``__Host-`` prefix makes the browser refuse cookies that are not Secure, have a Domain
    or a Path other than ``/``, so a sibling subdomain cannot plant a session or CSRF cookie.
    """

    secure: bool

    @property
    def session(self) -> str:
        return "__Host-tp_session" if self.secure else "tp_session"

    @property
    def csrf(self) -> str:
        return "__Host-tp_csrf" if self.secure else "tp_csrf"

    def set(
        self,
        response: Response,
        name: str,
        value: str,
        *,
        same_site: Literal["lax", "strict"],
        max_age: int | None = None,
    ) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite=same_site,
        )

    def clear(self, response: Response, name: str, *, same_site: Literal["lax", "strict"]) -> None:
        response.delete_cookie(
            name, path="/", secure=self.secure, httponly=True, samesite=same_site
        )


def _usable(value: str | None) -> bool:
    return value is not None and 20 <= len(value) <= 100 and value.isascii()


def csrf_token(
    request: Request, cookies: CookieNames, random: TokenSource, *, fresh: bool = False
) -> tuple[str, bool]:
    """The browser's CSRF token, and whether it is new (then the caller must set the cookie).

    ``fresh`` always makes a new one (after a sign-in POST consumed the old one).
    """
    existing = request.cookies.get(cookies.csrf)
    if not fresh and existing is not None and _usable(existing):
        return existing, False
    return random.token(32), True


def csrf_replay_key(token: str) -> str:
    """The replay-cache key that marks ``token`` used for a sign-in (fixed length: a hash)."""
    return "login-csrf:" + hash_token(token)


def csrf_valid(request: Request, submitted: str | None, cookies: CookieNames, origin: str) -> bool:
    """Double-submit check plus the browser's own provenance signals.

    ``Origin`` is compared only when it names an origin: with ``Referrer-Policy: no-referrer``
    browsers send ``Origin: null`` even on same-origin form posts (Fetch §3.1.4.4). Fetch
    Metadata (``Sec-Fetch-Site``) is not affected by the referrer policy, so it is checked too.
    """
    cookie = request.cookies.get(cookies.csrf)
    if not _usable(cookie) or not submitted or len(submitted) > 100:
        return False
    assert cookie is not None
    if not constant_time_equals(cookie, submitted):
        return False
    sent_origin = request.headers.get("origin")
    if sent_origin is not None and sent_origin != "null" and sent_origin != origin:
        return False
    site = request.headers.get("sec-fetch-site")
    return site is None or site in ("same-origin", "none")
