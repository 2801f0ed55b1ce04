"""The response types ``/authorize`` knows, one row each: which grant each belongs to, and how
its answer travels.

A response type is the authorization-endpoint face of a grant (RFC 6749 §3.1.1): ``code`` starts
the authorization code grant (§4.1), ``token`` is the implicit grant (§4.2). So who may use one,
and whether the server offers it at all, is the grant's row in ``core.grants.registry``: ``token``
is for public clients only and only while the implicit switch is on (RFC 9700 §2.1.2), because
the implicit grant's row says so. What the response type adds is its delivery:

* ``code`` defaults to the query (RFC 6749 §4.1.2);
* ``token`` defaults to the fragment (§4.2.2) and is never put in the query (OAuth 2.0 Multiple
  Response Type Encoding Practices §3.0).
* ``id_token`` and ``id_token token`` (OpenID Connect Core §3.2) are the implicit flow's
  OpenID Connect forms: the implicit grant's row decides who may use them, and they travel like
  ``token`` (fragment or form_post, never the query: Core §3.2.2.5).

The hybrid response types (``code id_token``, ``code token``, ``code id_token token``, Core §3.3)
have no row: they would put a code and tokens in the front channel together, so they are
``unsupported_response_type`` and absent from discovery. The order of the space-separated
values does not matter (Multiple Response Type Encoding Practices §2): ``token id_token`` is
``id_token token``.

Metadata (RFC 8414 ``response_types_supported``) and registration (RFC 7591 §2.1: response types
and grant types must agree) read these rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenpath.core.grants.registry import GrantSpec, grant_spec
from tokenpath.core.policy import Policy
from tokenpath.core.records import Client, GrantType, ResponseType
from tokenpath.core.response_modes import ResponseMode

__all__ = [
    "RESPONSE_TYPES",
    "ResponseTypeSpec",
    "response_type_spec",
    "supported_response_types",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseTypeSpec:
    """One ``response_type`` value and the grant it belongs to."""

    response_type: str
    grant_type: str
    """The grant whose row decides who may use this response type, and whether it is on."""
    default_mode: ResponseMode
    modes: tuple[ResponseMode, ...]
    """The response modes that may carry this response (the default among them)."""
    returns: tuple[str, ...]
    """What the authorization response carries: ``code``, ``access_token``, ``id_token``."""

    @property
    def returns_id_token(self) -> bool:
        """OIDC Core §3.2.2.1: an ID token from the authorization endpoint needs a ``nonce``."""
        return "id_token" in self.returns

    @property
    def grant(self) -> GrantSpec:
        spec = grant_spec(self.grant_type)
        if spec is None:
            raise LookupError(f"response_type {self.response_type} names no known grant")
        return spec

    def enabled(self, policy: Policy) -> bool:
        return self.grant.enabled(policy)

    def permits(self, client: Client) -> bool:
        """The client registered this response type and may use its grant."""
        return self.response_type in client.response_types and self.grant.permits(client)


RESPONSE_TYPES: tuple[ResponseTypeSpec, ...] = (
    ResponseTypeSpec(
        response_type=ResponseType.CODE,
        grant_type=GrantType.AUTHORIZATION_CODE,
        default_mode=ResponseMode.QUERY,
        modes=(ResponseMode.QUERY, ResponseMode.FRAGMENT, ResponseMode.FORM_POST),
        returns=("code",),
    ),
    ResponseTypeSpec(
        response_type=ResponseType.TOKEN,
        grant_type=GrantType.IMPLICIT,
        default_mode=ResponseMode.FRAGMENT,
        modes=(ResponseMode.FRAGMENT, ResponseMode.FORM_POST),
        returns=("access_token",),
    ),
    ResponseTypeSpec(
        response_type=ResponseType.ID_TOKEN,
        grant_type=GrantType.IMPLICIT,
        default_mode=ResponseMode.FRAGMENT,
        modes=(ResponseMode.FRAGMENT, ResponseMode.FORM_POST),
        returns=("id_token",),
    ),
    ResponseTypeSpec(
        response_type=ResponseType.ID_TOKEN_TOKEN,
        grant_type=GrantType.IMPLICIT,
        default_mode=ResponseMode.FRAGMENT,
        modes=(ResponseMode.FRAGMENT, ResponseMode.FORM_POST),
        returns=("access_token", "id_token"),
    ),
)
"""Every response type, in the order metadata lists them."""


def response_type_spec(response_type: str) -> ResponseTypeSpec | None:
    """The row for ``response_type`` in any value order; None for one this server does not know.

    Each value counts once: ``token token`` is no response type at all.
    """
    values = response_type.split(" ")
    if len(set(values)) != len(values):
        return None
    wanted = frozenset(values)
    return next((s for s in RESPONSE_TYPES if set(s.response_type.split(" ")) == wanted), None)


def supported_response_types(policy: Policy) -> list[str]:
    """RFC 8414 ``response_types_supported``: every response type offered under ``policy``."""
    return [str(spec.response_type) for spec in RESPONSE_TYPES if spec.enabled(policy)]
