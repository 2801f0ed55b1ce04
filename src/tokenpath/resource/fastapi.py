"""FastAPI: a ``Security`` dependency that validates the bearer token and names its scopes.

Use::

    auth = TokenAuth(JwtValidator(issuer=ISSUER, audience=API), realm="notes")
    app = FastAPI()
    auth.install(app)

    @app.get("/notes")
    async def notes(token: AccessToken = Security(auth, scopes=["notes:read"])) -> ...

:class:`TokenAuth` is a FastAPI security scheme, so the OpenAPI document lists it under
``components.securitySchemes`` (HTTP bearer, or OAuth 2 authorization code with the scopes when
``authorization_url`` and ``token_url`` are given, which lets ``/docs`` sign in) and every
operation that uses it under ``security`` with the scopes it asks for. Every decision is
:mod:`.guard`'s, so the 401/403/400 answers and their ``WWW-Authenticate`` are the same as the
Starlette, Flask and Django adapters'. :meth:`TokenAuth.install` makes the JSON body match too
(``error``/``error_description``); without it FastAPI wraps that body in ``detail``.

FastAPI is imported here only: ``pip install 'tokenpath[fastapi]'``. No ``from __future__
import annotations`` in this module: FastAPI reads the dependency's annotations at run time.
"""

from collections.abc import Mapping

from tokenpath.resource.guard import Denial, DpopOptions, Guard
from tokenpath.resource.middleware import facts_of
from tokenpath.resource.validation import AccessToken, TokenValidator

try:
    from fastapi import FastAPI, HTTPException, Request
    from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
    from fastapi.openapi.models import OAuth2 as OAuth2Model
    from fastapi.openapi.models import OAuthFlowAuthorizationCode, OAuthFlows
    from fastapi.responses import JSONResponse
    from fastapi.security import SecurityScopes
    from fastapi.security.base import SecurityBase
except ImportError as error:  # pragma: no cover - exercised only without FastAPI installed
    raise ImportError(
        "tokenpath.resource.fastapi needs FastAPI: pip install 'tokenpath[fastapi]'"
    ) from error

__all__ = ["TokenAuth", "TokenRefused"]


class TokenRefused(HTTPException):
    """The call is not allowed; carries the guard's :class:`~tokenpath.resource.guard.Denial`."""

    def __init__(self, denial: Denial) -> None:
        super().__init__(denial.status, detail=dict(denial.body), headers=dict(denial.headers))
        self.denial = denial


async def _render(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, TokenRefused)  # registered for TokenRefused only
    denial = error.denial
    return JSONResponse(dict(denial.body), status_code=denial.status, headers=dict(denial.headers))


class TokenAuth(SecurityBase):
    """The dependency: ``Security(auth, scopes=[...])`` gives the endpoint an AccessToken."""

    def __init__(
        self,
        validator: TokenValidator,
        *,
        realm: str = "tokenpath",
        scheme_name: str = "tokenpath",
        description: str | None = None,
        authorization_url: str | None = None,
        token_url: str | None = None,
        scopes: Mapping[str, str] | None = None,
        bearer_format: str | None = None,
        dpop: DpopOptions | bool = True,
    ) -> None:
        """``authorization_url`` with ``token_url``: an OAuth 2 scheme (``scopes`` describes
        them for ``/docs``); otherwise an HTTP bearer scheme. ``dpop``: DPoP-bound tokens
        accepted next to Bearer (True or :class:`DpopOptions`), or Bearer only (False)."""
        self.guard = Guard(validator, realm=realm, dpop=dpop)
        self.scheme_name = scheme_name
        if authorization_url and token_url:
            flow = OAuthFlowAuthorizationCode(
                authorizationUrl=authorization_url, tokenUrl=token_url, scopes=dict(scopes or {})
            )
            self.model = OAuth2Model(
                flows=OAuthFlows(authorizationCode=flow), description=description
            )
        elif authorization_url or token_url:
            raise ValueError("an OAuth 2 scheme needs both authorization_url and token_url")
        else:
            self.model = HTTPBearerModel(bearerFormat=bearer_format, description=description)

    def install(self, app: FastAPI) -> None:
        """Answer refusals with the RFC 6750 JSON body rather than FastAPI's ``detail``."""
        app.add_exception_handler(TokenRefused, _render)

    async def __call__(self, request: Request, security_scopes: SecurityScopes) -> AccessToken:
        decision = await self.guard.check(facts_of(request.scope), *security_scopes.scopes)
        if isinstance(decision, Denial):
            raise TokenRefused(decision)
        request.state.access_token = decision
        return decision
