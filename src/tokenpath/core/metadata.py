"""Authorization server metadata (RFC 8414), derived only from policy.

It lists what the server will actually do: ``response_types_supported`` follows the implicit
switch (catalog A9.6), PKCE advertises S256 alone (A18), and ``password`` is never a grant type.
"""

from __future__ import annotations

from tokenpath.core.client_assertion import SIGNING_ALGS
from tokenpath.core.client_auth import AUTH_METHODS
from tokenpath.core.policy import Policy
from tokenpath.core.response_modes import ResponseMode

__all__ = ["authorization_server_metadata"]


def authorization_server_metadata(policy: Policy) -> dict[str, object]:
    response_types = ["code", "token"] if policy.allow_implicit else ["code"]
    grant_types = ["authorization_code", "refresh_token", "client_credentials"]
    if policy.allow_implicit:
        grant_types.append("implicit")
    auth_methods = list(AUTH_METHODS)
    return {
        "issuer": policy.issuer,
        "authorization_endpoint": policy.endpoint("/authorize"),
        "token_endpoint": policy.endpoint("/token"),
        "jwks_uri": policy.endpoint("/jwks"),
        "scopes_supported": list(policy.scopes_supported),
        "response_types_supported": response_types,
        "response_modes_supported": [m.value for m in ResponseMode],
        "grant_types_supported": grant_types,
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": list(SIGNING_ALGS),
        "revocation_endpoint": policy.endpoint("/revoke"),
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint": policy.endpoint("/introspect"),
        "introspection_endpoint_auth_methods_supported": [m for m in auth_methods if m != "none"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
    }
