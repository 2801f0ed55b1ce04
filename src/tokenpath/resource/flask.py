"""Flask: a view decorator that validates the bearer token and checks its scopes.

Use::

    auth = TokenAuth(SyncJwtValidator(issuer=ISSUER, audience=API), realm="notes")
    app = Flask(__name__)
    auth.init_app(app)

    @app.get("/notes")
    @require_token("notes:read")
    def notes():
        token = current_token()

:func:`require_token` finds the :class:`TokenAuth` of the running app (Flask's extension
pattern, so one module of views serves several apps); ``auth.require(...)`` is the same bound to
one instance. Every decision is :mod:`.guard`'s, so refusals read exactly as the Starlette,
FastAPI and Django adapters' do (401/403/400, ``WWW-Authenticate``, JSON body, ``no-store``).
The validated token is ``flask.g.access_token``.

Flask is imported here only: ``pip install 'tokenpath[flask]'``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from tokenpath.resource.guard import Denial, DpopOptions, RequestFacts, SyncGuard
from tokenpath.resource.validation import AccessToken, SyncTokenValidator

try:
    import flask
except ImportError as error:  # pragma: no cover - exercised only without Flask installed
    raise ImportError(
        "tokenpath.resource.flask needs Flask: pip install 'tokenpath[flask]'"
    ) from error

__all__ = ["EXTENSION", "TokenAuth", "current_token", "require_token"]

EXTENSION = "tokenpath"
"""The key of the :class:`TokenAuth` in ``app.extensions``."""

P = ParamSpec("P")
R = TypeVar("R")


def _facts() -> RequestFacts:
    request = flask.request
    return RequestFacts.of(request.method, request.url, request.headers.items())


def _render(denial: Denial) -> flask.Response:
    response = flask.jsonify(dict(denial.body))
    response.status_code = denial.status
    response.headers.update(denial.headers)
    return response


class TokenAuth:
    """Bearer-token checks for Flask views, with a synchronous validator."""

    def __init__(
        self,
        validator: SyncTokenValidator,
        *,
        realm: str = "tokenpath",
        app: flask.Flask | None = None,
        dpop: DpopOptions | bool = True,
    ) -> None:
        """``dpop``: DPoP-bound tokens accepted next to Bearer (True or :class:`DpopOptions`,
        whose replay cache must be synchronous), or Bearer only (False)."""
        self.guard = SyncGuard(validator, realm=realm, dpop=dpop)
        if app is not None:
            self.init_app(app)

    def init_app(self, app: flask.Flask) -> None:
        app.extensions[EXTENSION] = self

    def require(self, *scopes: str) -> Callable[[Callable[P, R]], Callable[P, R | flask.Response]]:
        """Guard a view: it runs only for a valid token holding every scope in ``scopes``."""

        def decorate(view: Callable[P, R]) -> Callable[P, R | flask.Response]:
            @functools.wraps(view)
            def guarded(*args: P.args, **kwargs: P.kwargs) -> R | flask.Response:
                decision = self.guard.check(_facts(), *scopes)
                if isinstance(decision, Denial):
                    return _render(decision)
                flask.g.access_token = decision
                return view(*args, **kwargs)

            return guarded

        return decorate


def require_token(*scopes: str) -> Callable[[Callable[P, R]], Callable[P, R | flask.Response]]:
    """:meth:`TokenAuth.require` for the :class:`TokenAuth` of the app serving the request."""

    def decorate(view: Callable[P, R]) -> Callable[P, R | flask.Response]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R | flask.Response:
            auth: Any = flask.current_app.extensions.get(EXTENSION)
            if not isinstance(auth, TokenAuth):
                # fail closed and loudly: without the extension nobody could be let in
                raise RuntimeError("require_token needs TokenAuth(...).init_app(app)")
            return auth.require(*scopes)(view)(*args, **kwargs)

        return guarded

    return decorate


def current_token() -> AccessToken:
    """The token :func:`require_token` validated for this request."""
    token: AccessToken = flask.g.access_token
    return token
