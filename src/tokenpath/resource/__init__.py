"""Resource-server side: validate access tokens in any Python API (RFC 6750, RFC 9068, RFC 7662).

One guard (:mod:`.guard`) decides for every framework: a request's credentials in, an
:class:`AccessToken` or the RFC 6750 §3 refusal out. Adapters only translate:

* Starlette / any ASGI app: :class:`BearerAuthMiddleware` with ``@requires_scope(...)``,
  :class:`RequireScope` or :func:`check_access` (this package);
* FastAPI: ``tokenpath.resource.fastapi.TokenAuth``, a ``Security`` dependency that is also the
  OpenAPI security scheme;
* Flask: ``tokenpath.resource.flask`` (``TokenAuth``, ``@require_token(...)``);
* Django: ``tokenpath.resource.django`` (``BearerTokenMiddleware``, ``@require_token(...)``).

The framework adapters import their framework only when imported themselves, so ``pip install
tokenpath`` is enough. Validators: :class:`JwtValidator` (async) and :class:`SyncJwtValidator`
(WSGI), two shells around one set of RFC 9068 rules, ``iss`` and ``aud`` always checked;
DPoP-bound tokens (RFC 9449) are accepted with their proof next to Bearer (:class:`DpopOptions`);
:class:`IntrospectionValidator` asks the authorization server. A :class:`RevocationFeed` polls
the server's revocation feed in the background so the JWT validators refuse revoked tokens
within about a second, with no call per request. Typical use::

    validator = JwtValidator(issuer=ISSUER, audience=API_IDENTIFIER)
    app = Starlette(
        routes=[Route("/notes", list_notes)],
        middleware=[Middleware(BearerAuthMiddleware, validator=validator, realm="notes")],
    )

How-tos: docs/howto/resource-server.md and one page per framework.
"""

from tokenpath.resource.demo_api import create_demo_api
from tokenpath.resource.dpop import DpopOptions, MemoryReplayCache
from tokenpath.resource.guard import Denial, Guard, RequestFacts, SyncGuard
from tokenpath.resource.introspection import IntrospectionValidator
from tokenpath.resource.jwks import JwksCache
from tokenpath.resource.middleware import (
    BearerAuthMiddleware,
    QueryTokenRefused,
    RequireScope,
    challenge,
    check_access,
    extract_bearer,
    requires_scope,
)
from tokenpath.resource.revocation import RevocationFeed
from tokenpath.resource.validation import (
    AccessToken,
    JwtValidator,
    SyncJwtValidator,
    SyncTokenValidator,
    TokenValidator,
)

__all__ = [
    "AccessToken",
    "BearerAuthMiddleware",
    "Denial",
    "DpopOptions",
    "Guard",
    "IntrospectionValidator",
    "JwksCache",
    "JwtValidator",
    "MemoryReplayCache",
    "QueryTokenRefused",
    "RequestFacts",
    "RequireScope",
    "RevocationFeed",
    "SyncGuard",
    "SyncJwtValidator",
    "SyncTokenValidator",
    "TokenValidator",
    "challenge",
    "check_access",
    "create_demo_api",
    "extract_bearer",
    "requires_scope",
]
