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
    ),
    ResponseTypeSpec(
        response_type=ResponseType.TOKEN,
        grant_type=GrantType.IMPLICIT,
        default_mode=ResponseMode.FRAGMENT,
        modes=(ResponseMode.FRAGMENT, ResponseMode.FORM_POST),
    ),
)
"""Every response type, in the order metadata lists them."""


def response_type_spec(response_type: str) -> ResponseTypeSpec | None:
    """The row for ``response_type``; None for one this server does not know."""
    return next((s for s in RESPONSE_TYPES if s.response_type == response_type), None)


def supported_response_types(policy: Policy) -> list[str]:
    """RFC 8414 ``response_types_supported``: every response type offered under ``policy``."""
    return [str(spec.response_type) for spec in RESPONSE_TYPES if spec.enabled(policy)]
