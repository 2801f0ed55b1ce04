"""Resource-server side: validate access tokens in any ASGI API (RFC 6750, RFC 9068, RFC 7662).

Typical use::

    validator = JwtValidator(issuer=ISSUER, audience=API, jwks=JwksCache(f"{ISSUER}/jwks"))
    auth = Middleware(BearerAuthMiddleware, validator=validator)
    app = Starlette(routes=[...], middleware=[auth])

and ``@requires_scope("notes:read")`` on each protected endpoint.
"""

from tokenpath.resource.demo_api import create_demo_api
from tokenpath.resource.middleware import BearerAuthMiddleware, challenge, requires_scope
from tokenpath.resource.tokens import (
    AccessToken,
    IntrospectionValidator,
    JwksCache,
    JwtValidator,
    TokenValidator,
)

__all__ = [
    "AccessToken",
    "BearerAuthMiddleware",
    "IntrospectionValidator",
    "JwksCache",
    "JwtValidator",
    "TokenValidator",
    "challenge",
    "create_demo_api",
    "requires_scope",
]
