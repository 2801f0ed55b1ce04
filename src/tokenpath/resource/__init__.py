"""Resource-server side: validate access tokens in any ASGI API (RFC 6750, RFC 9068, RFC 7662).

Typical use::

    validator = JwtValidator(issuer=ISSUER, audience=API_URL, jwks_uri=f"{ISSUER}/jwks")
    app = Starlette(
        routes=[Route("/notes", list_notes)],
        middleware=[Middleware(BearerAuthMiddleware, validator=validator, realm="notes")],
    )

with ``@requires_scope("notes:read")`` on each protected endpoint (``RequireScope`` for a whole
ASGI app). Without ``jwks_uri`` the validator discovers it from the issuer's metadata.
"""

from tokenpath.resource.demo_api import create_demo_api
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
    "IntrospectionValidator",
    "JwksCache",
    "JwtValidator",
    "QueryTokenRefused",
    "RequireScope",
    "RevocationFeed",
    "SyncJwtValidator",
    "SyncTokenValidator",
    "TokenValidator",
    "challenge",
    "check_access",
    "create_demo_api",
    "extract_bearer",
    "requires_scope",
]
