"""Authorization server metadata (RFC 8414) and OpenID Provider metadata (OIDC Discovery 1.0
§3), derived only from policy and the registries.

They list what the server will actually do: ``grant_types_supported`` and
``response_types_supported`` are the rows of ``core.grants.registry`` and
``core.response_types`` that the policy enables, so ``token``, ``id_token``, ``id_token token``
and ``implicit`` follow the implicit switch (catalog A9.6), and ``password`` and the hybrid
response types, having no row, are never listed; PKCE advertises S256 alone (A18).
``scopes_supported`` lists the scopes the server defines itself (the OpenID ones): each API's
scopes are its own (``tokenpath api show``). Two tokenpath extensions say what else is offered:
``resource_indicators_supported`` (RFC 8707 ``resource`` at ``/authorize`` and ``/token``) and
``revocation_feed_endpoint`` (``core/revocation_feed.py``).

The OpenID Provider document is the RFC 8414 one plus the Discovery fields (RFC 8414 §4 lets one
document serve both): ``subject_types_supported`` offers ``pairwise`` only once a pairwise salt
is configured; ID tokens are ES256 (the signing keys' one algorithm); ``acr_values_supported``
is absent (no ``acr`` is implemented); claims and request objects are refused, and say so:
``request_uri_parameter_supported`` is false because only the references ``/par`` hands out
(RFC 9126) are accepted, never a client's own URL of a request object.
"""

from __future__ import annotations

from tokenpath.core.claims import SUPPORTED_CLAIMS
from tokenpath.core.client_assertion import SIGNING_ALGS
from tokenpath.core.client_auth import AUTH_METHODS
from tokenpath.core.dpop import DPOP_ALGS
from tokenpath.core.grants.registry import supported_grant_types
from tokenpath.core.id_tokens import ID_TOKEN_CLAIMS
from tokenpath.core.policy import Policy
from tokenpath.core.response_modes import ResponseMode
from tokenpath.core.response_types import supported_response_types

__all__ = ["authorization_server_metadata", "openid_configuration"]


def authorization_server_metadata(policy: Policy) -> dict[str, object]:
    auth_methods = list(AUTH_METHODS)
    return {
        "issuer": policy.issuer,
        "authorization_endpoint": policy.endpoint("/authorize"),
        "token_endpoint": policy.endpoint("/token"),
        "jwks_uri": policy.endpoint("/jwks"),
        "scopes_supported": list(policy.scopes_supported),
        "response_types_supported": supported_response_types(policy),
        "response_modes_supported": [m.value for m in ResponseMode],
        "grant_types_supported": supported_grant_types(policy),
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": list(SIGNING_ALGS),
        "revocation_endpoint": policy.endpoint("/revoke"),
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint": policy.endpoint("/introspect"),
        "introspection_endpoint_auth_methods_supported": [m for m in auth_methods if m != "none"],
        "registration_endpoint": policy.endpoint("/register"),  # RFC 7591 §3, RFC 8414 §2
        # RFC 8707 at /authorize and /token; extensions (docs/reference/revocation-feed.md)
        "resource_indicators_supported": True,
        "revocation_feed_endpoint": policy.endpoint("/revocations"),
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        # RFC 9126 §5: where to push, and whether every client must
        "pushed_authorization_request_endpoint": policy.endpoint("/par"),
        "require_pushed_authorization_requests": policy.require_pushed_authorization_requests,
        "dpop_signing_alg_values_supported": list(DPOP_ALGS),  # RFC 9449 §5.1
        # OpenID Connect RP-Initiated Logout 1.0 §2.1 and Back-Channel Logout 1.0 §2.1
        "end_session_endpoint": policy.endpoint("/logout"),
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
    }


def openid_configuration(policy: Policy) -> dict[str, object]:
    """``/.well-known/openid-configuration`` (OIDC Discovery 1.0 §3, §4.2)."""
    subject_types = ["public", "pairwise"] if policy.pairwise_salt else ["public"]
    return {
        **authorization_server_metadata(policy),
        "userinfo_endpoint": policy.endpoint("/userinfo"),
        "subject_types_supported": subject_types,
        "id_token_signing_alg_values_supported": ["ES256"],
        "claims_supported": list(dict.fromkeys((*ID_TOKEN_CLAIMS, *SUPPORTED_CLAIMS))),
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
    }
