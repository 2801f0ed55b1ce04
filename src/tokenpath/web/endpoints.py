"""One thin handler per endpoint: parse HTTP, call the core, render what it decided.

No protocol decision is made here (docs/architecture.md, "The web layer"). What this module
does decide is HTTP and browser mechanics: status codes for redirects (302 after GET, 303 after
POST: RFC 9700 §4.12), cookies, CSRF, body limits, and which page shows a core decision.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tokenpath.core import current_session
from tokenpath.core import login as sign_in
from tokenpath.core.authorize import authorize
from tokenpath.core.context import Context
from tokenpath.core.errors import InvalidRequest, OAuthError, ServerError, SlowDown
from tokenpath.core.login import SignInBusy
from tokenpath.core.login import logout as sign_out
from tokenpath.core.logout import after_logout, end_session, logout_request
from tokenpath.core.messages import (
    ConsentPrompt,
    Decision,
    ErrorPage,
    FormPost,
    Interstitial,
    LoginPrompt,
    Redirect,
)
from tokenpath.core.records import Session
from tokenpath.observability import metrics
from tokenpath.settings import Settings
from tokenpath.web.backchannel import BackchannelSender
from tokenpath.web.client_address import client_address, parse_networks
from tokenpath.web.forms import (
    Pairs,
    authorize_url,
    read_form,
    read_query,
    safe_return_to,
    single,
)
from tokenpath.web.render import Pages, consent_groups
from tokenpath.web.security import CookieNames, csrf_replay_key, csrf_token, csrf_valid

__all__ = ["Endpoints", "Runtime"]

log = logging.getLogger(__name__)

AUTHORIZE_LIMIT = 16 * 1024
"""Longest /authorize query or form we read; the core also bounds each parameter."""
FORM_LIMIT = 32 * 1024
"""Login, consent and logout forms (consent repeats the authorization request)."""
TOKEN_LIMIT = 64 * 1024
"""Token, revocation and introspection bodies (client assertions are the largest field)."""
_MAX_USERNAME = 100
_MAX_PASSWORD = 1024
"""Longer passwords are refused before hashing, so argon2 is never fed megabytes."""
_BAD_LOGIN = "The user name or password is incorrect."
_THROTTLED = "Too many failed sign-ins. Wait a little and try again."
_BUSY = "The server is busy. Try again in a moment."
_CSRF_SINGLE_USE = 600
"""Seconds a consumed sign-in CSRF token stays refused (forms are re-issued on every POST)."""
_CONTROL_FIELDS = ("csrf", "decision")
_NOT_REDIRECTED = (
    "For your safety you were not sent back to the application: the request did not prove "
    "where it should go. Return to the application and start again."
)


@dataclass(kw_only=True)
class Runtime:
    """What every handler needs; ``ctx`` is filled by the lifespan when the app owns its DB."""

    settings: Settings
    pages: Pages
    cookies: CookieNames
    ctx: Context | None = None
    cors_origins: frozenset[str] = field(default_factory=frozenset)
    backchannel: BackchannelSender = field(default_factory=BackchannelSender)

    def context(self) -> Context:
        if self.ctx is None:
            raise RuntimeError("the application has not started (lifespan not run)")
        return self.ctx


class Endpoints:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.pages = runtime.pages
        self.cookies = runtime.cookies
        self.trusted_proxies = parse_networks(runtime.settings.trusted_proxies)

    # --- interactive endpoints ----------------------------------------------------------------

    async def authorize(self, request: Request) -> Response:
        """OIDC Core §3.1.2.1: GET and POST; the POST form carries the same parameters."""
        ctx = self.rt.context()
        try:
            pairs = await _query_or_form(request)
        except InvalidRequest as error:
            return self.pages.error(error)
        session = await current_session(request.cookies.get(self.cookies.session), ctx=ctx)
        decision = await authorize(pairs, ctx=ctx, session=session)
        return await self._render(request, decision, pairs, session)

    async def consent(self, request: Request) -> Response:
        ctx = self.rt.context()
        try:
            pairs = await read_form(request, limit=FORM_LIMIT)
            submitted, answer = single(pairs, "csrf"), single(pairs, "decision")
        except InvalidRequest as error:
            return self.pages.error(error)
        if not self._csrf_ok(request, submitted):
            return self._csrf_failed()
        if answer not in ("approve", "deny"):
            return self.pages.error(InvalidRequest("decision must be approve or deny"))
        consent: Literal["approve", "deny"] = "approve" if answer == "approve" else "deny"
        request_pairs = [(k, v) for k, v in pairs if k not in _CONTROL_FIELDS]
        session = await current_session(request.cookies.get(self.cookies.session), ctx=ctx)
        decision = await authorize(request_pairs, ctx=ctx, session=session, consent=consent)
        return await self._render(request, decision, request_pairs, session)

    async def login_page(self, request: Request) -> Response:
        try:
            return_to = safe_return_to(
                single(read_query(request, limit=AUTHORIZE_LIMIT + 64), "return_to")
            )
        except InvalidRequest:
            return_to = "/"
        return self._login_form(request, return_to=return_to)

    async def login(self, request: Request) -> Response:
        """Sign in; answer 303 (never 307/308, which would re-POST the password: §4.12).

        The form's CSRF token is consumed here and every answer carries a fresh one.
        """
        ctx = self.rt.context()
        try:
            pairs = await read_form(request, limit=FORM_LIMIT)
            fields = {name: single(pairs, name) for name in _LOGIN_FIELDS}
        except InvalidRequest as error:
            return self.pages.error(error)
        if not self._csrf_ok(request, fields["csrf"]) or not await self._csrf_first_use(fields):
            return self._csrf_failed()
        return_to = safe_return_to(fields["return_to"])
        username, password = fields["username"] or "", fields["password"] or ""
        result: tuple[str, Session] | SlowDown | SignInBusy | None = None
        if 0 < len(username) <= _MAX_USERNAME and 0 < len(password) <= _MAX_PASSWORD:
            address = client_address(request, self.trusted_proxies)
            result = await sign_in(username, password, ctx=ctx, address=address)
        if not isinstance(result, tuple):
            return self._login_refused(request, result, return_to=return_to, username=username)
        await sign_out(request.cookies.get(self.cookies.session), ctx=ctx)  # no fixation
        response = RedirectResponse(return_to, status_code=303)
        self.cookies.set(
            response,
            self.cookies.session,
            result[0],
            same_site="lax",
            max_age=ctx.policy.session_lifetime,
        )
        return self._with_csrf(response, self._csrf(request, fresh=True)[0], True)

    def _login_refused(
        self,
        request: Request,
        result: SlowDown | SignInBusy | None,
        *,
        return_to: str,
        username: str,
    ) -> Response:
        """The form again: 400 bad credentials, 429 throttled, 503 busy (with ``Retry-After``)."""
        message, status, headers = _BAD_LOGIN, 400, None
        if isinstance(result, SlowDown):
            message, status = _THROTTLED, 429
        elif isinstance(result, SignInBusy):
            message, status = _BUSY, 503
        if result is not None:
            headers = {"Retry-After": str(result.retry_after)}
        return self._login_form(
            request,
            return_to=return_to,
            username=username,
            message=message,
            status=status,
            headers=headers,
            fresh_csrf=True,
        )

    async def _csrf_first_use(self, fields: dict[str, str | None]) -> bool:
        """Consume the sign-in form's token (already checked equal to the cookie)."""
        ctx = self.rt.context()
        now = ctx.clock.now()
        key = csrf_replay_key(fields["csrf"] or "")
        return await ctx.stores.replay.first_use(key, now + _CSRF_SINGLE_USE, now)

    async def logout_page(self, request: Request) -> Response:
        """RP-Initiated Logout 1.0 §2 (GET or POST): check the request, then ask the user."""
        ctx = self.rt.context()
        try:
            checked = await logout_request(await _query_or_form(request), ctx=ctx)
        except InvalidRequest as error:
            return self.pages.error(error)
        if isinstance(checked, ErrorPage):
            return await self._render(request, checked, [], None)
        session = await current_session(request.cookies.get(self.cookies.session), ctx=ctx)
        token_value, new = self._csrf(request)
        response = self.pages.html(
            "logout.html", csrf=token_value, title="Sign out", request=checked, session=session
        )
        return self._with_csrf(response, token_value, new)

    async def logout(self, request: Request) -> Response:
        """The user confirmed: end the session, notify clients in the background (Back-Channel
        Logout 1.0 §2.5), then 303 to the registered post-logout URI or the signed-out page."""
        ctx = self.rt.context()
        try:
            pairs = await read_form(request, limit=FORM_LIMIT)
            submitted = single(pairs, "csrf")
        except InvalidRequest as error:
            return self.pages.error(error)
        if not self._csrf_ok(request, submitted):
            return self._csrf_failed()
        checked = await logout_request([p for p in pairs if p[0] != "csrf"], ctx=ctx)
        if isinstance(checked, ErrorPage):
            return await self._render(request, checked, [], None)
        session = await current_session(request.cookies.get(self.cookies.session), ctx=ctx)
        self.rt.backchannel.submit(await end_session(session, ctx=ctx), ctx.events)
        target = after_logout(checked)
        response = RedirectResponse(target.location if target else "/logout/done", 303)
        self.cookies.clear(response, self.cookies.session, same_site="lax")
        return response

    async def logged_out(self, request: Request) -> Response:
        return self.pages.html("logout_done.html", title="Signed out")

    async def home(self, request: Request) -> Response:
        ctx = self.rt.context()
        session = await current_session(request.cookies.get(self.cookies.session), ctx=ctx)
        user = await ctx.stores.users.get(session.user_id) if session else None
        return self.pages.html(
            "home.html",
            title="Authorization server",
            issuer=ctx.policy.issuer,
            username=user.username if user else None,
            allow_implicit=ctx.policy.allow_implicit,
        )

    # --- rendering core decisions --------------------------------------------------------------

    async def _render(
        self, request: Request, decision: Decision, pairs: Pairs, session: Session | None
    ) -> Response:
        if isinstance(decision, Redirect):
            status = 303 if request.method == "POST" else 302
            return RedirectResponse(decision.location, status_code=status)
        if isinstance(decision, FormPost):
            metrics.count_response(dict(decision.fields))
            return self.pages.html(
                "form_post.html", action=decision.action, fields=decision.fields, title="Continue"
            )
        if isinstance(decision, ErrorPage):
            return self.pages.error(decision.error, status=decision.status, note=_NOT_REDIRECTED)
        if isinstance(decision, LoginPrompt):
            return self._login_form(
                request,
                return_to=authorize_url(list(decision.resume or ()) or pairs),
                client_name=decision.client.client_name,
                username=decision.login_hint or "",
            )
        if isinstance(decision, ConsentPrompt):
            return await self._consent_form(request, decision, pairs, session)
        if isinstance(decision, Interstitial):
            return self._interstitial(decision)
        log.error("unknown decision %s", type(decision).__name__)  # pragma: no cover
        return self.pages.error(ServerError("unexpected decision"))  # pragma: no cover

    async def _consent_form(
        self, request: Request, prompt: ConsentPrompt, pairs: Pairs, session: Session | None
    ) -> Response:
        ctx = self.rt.context()
        user = await ctx.stores.users.get(session.user_id) if session else None
        token_value, new = self._csrf(request)
        response = self.pages.html(
            "consent.html",
            title=f"Allow {prompt.client.client_name}?",
            client=prompt.client,
            groups=consent_groups(prompt),
            redirect_host=prompt.redirect_host,
            username=user.username if user else None,
            fields=[(k, v) for k, v in (prompt.resume or pairs) if k not in _CONTROL_FIELDS],
            csrf=token_value,
        )
        return self._with_csrf(response, token_value, new)

    def _interstitial(self, held: Interstitial) -> Response:
        """RFC 9700 §4.11.2: the error, where it goes, and a button the user presses to go on."""
        return self.pages.html("interstitial.html", status=400, title="Leave this site?", held=held)

    def _login_form(
        self,
        request: Request,
        *,
        return_to: str,
        client_name: str | None = None,
        username: str = "",
        message: str | None = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
        fresh_csrf: bool = False,
    ) -> Response:
        token_value, new = self._csrf(request, fresh=fresh_csrf)
        response = self.pages.html(
            "login.html",
            status=status,
            headers=headers,
            title="Sign in",
            return_to=return_to,
            client_name=client_name,
            username=username[:_MAX_USERNAME],
            message=message,
            csrf=token_value,
            issuer=self.rt.settings.issuer,
        )
        return self._with_csrf(response, token_value, new)

    # --- CSRF -------------------------------------------------------------------------------------

    def _csrf(self, request: Request, *, fresh: bool = False) -> tuple[str, bool]:
        return csrf_token(request, self.cookies, self.rt.context().random, fresh=fresh)

    def _with_csrf(self, response: Response, value: str, new: bool) -> Response:
        if new:
            self.cookies.set(response, self.cookies.csrf, value, same_site="strict")
        return response

    def _csrf_ok(self, request: Request, submitted: str | None) -> bool:
        return csrf_valid(request, submitted, self.cookies, self.rt.settings.issuer_origin)

    def _csrf_failed(self) -> Response:
        return self.pages.error(
            InvalidRequest("the form could not be verified (missing or wrong CSRF token)"),
            status=403,
            title="Form expired",
            note="Nothing was changed. Go back, reload the page and try again.",
        )


_LOGIN_FIELDS = ("username", "password", "return_to", "csrf")


async def _query_or_form(request: Request) -> Pairs:
    """OIDC Core §3.1.2.1, RP-Initiated Logout 1.0 §2: the same parameters by GET or POST."""
    if request.method == "POST":
        return await read_form(request, limit=AUTHORIZE_LIMIT)
    return read_query(request, limit=AUTHORIZE_LIMIT)


def oauth_error_for(status: int, description: str) -> OAuthError:
    """The OAuth error a JSON endpoint answers for an HTTP-level failure (404, 405, 500)."""
    if status >= 500:
        return ServerError(description)
    return InvalidRequest(description)
