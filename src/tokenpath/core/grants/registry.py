"""The grant types this server knows, one row each: who may use a grant and what it reads.

Every place that needs to know about grants reads these rows: the token endpoint dispatches on
them and checks the client's permission once (RFC 6749 §5.2 ``unauthorized_client``),
registration applies their client-type rules (RFC 6749 §2.1, §4.4; RFC 7591 §2), and the
metadata document lists them (RFC 8414 §2 ``grant_types_supported``). A new grant is its
handler module plus one row here.

Rules the rows encode:

* ``password`` (ROPC) has no row and never will: RFC 9700 §2.4.
* ``implicit`` is in the vocabulary (registration, metadata) but has no token-endpoint handler:
  its tokens come from ``/authorize`` (RFC 6749 §4.2), and only while the server-wide switch is
  on (RFC 9700 §2.1.2).
* ``client_credentials`` is for confidential clients only (RFC 6749 §4.4).
* A handler sees only the form parameters its row declares: the row documents the grant's
  request (RFC 6749 §4.1.3, §4.4.2, §6) and nothing else can leak into it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from tokenpath.core.context import Context
from tokenpath.core.grants.authorization_code import exchange_code
from tokenpath.core.grants.client_credentials import client_credentials
from tokenpath.core.grants.refresh_token import refresh
from tokenpath.core.issuance import TokenResponse
from tokenpath.core.policy import Policy
from tokenpath.core.records import Client, GrantType

__all__ = [
    "GRANTS",
    "GrantHandler",
    "GrantSpec",
    "grant_spec",
    "supported_grant_types",
]

GrantHandler = Callable[[Mapping[str, str], Client, Context, str | None], Awaitable[TokenResponse]]
"""A token-endpoint grant: the declared form parameters, the authenticated and permitted
client, the context, and the thumbprint of the DPoP key the request proved (None: a bearer
request; ``core.dpop_binding``); a token response or an
:class:`~tokenpath.core.errors.OAuthError`."""


def _always(policy: Policy) -> bool:
    return True


def _implicit_allowed(policy: Policy) -> bool:
    return policy.allow_implicit


@dataclass(frozen=True, slots=True, kw_only=True)
class GrantSpec:
    """One grant type: its wire name, its handler, and who may use it."""

    grant_type: str
    """The ``grant_type`` value (RFC 6749 §4, an absolute URI for extensions: §4.5)."""
    handler: GrantHandler | None
    """None: not offered at the token endpoint (the implicit grant)."""
    public_clients: bool
    confidential_clients: bool
    params: tuple[str, ...] = ()
    """The form parameters the handler reads, besides ``grant_type`` and client authentication."""
    needs: tuple[str, ...] = ()
    """Registration refuses this grant unless the client also has one of these."""
    enabled: Callable[[Policy], bool] = _always
    """Whether the server offers the grant under ``policy``."""

    def allows_client_type(self, client: Client) -> bool:
        return self.public_clients if client.is_public else self.confidential_clients

    def permits(self, client: Client) -> bool:
        """The client registered this grant and is of a type that may use it."""
        return self.grant_type in client.grant_types and self.allows_client_type(client)

    def read(self, form: Mapping[str, str]) -> dict[str, str]:
        """The part of ``form`` the handler may see: the declared parameters only."""
        return {name: form[name] for name in self.params if name in form}


GRANTS: tuple[GrantSpec, ...] = (
    GrantSpec(
        grant_type=GrantType.AUTHORIZATION_CODE,
        handler=exchange_code,
        public_clients=True,
        confidential_clients=True,
        params=("code", "redirect_uri", "code_verifier", "resource"),
    ),
    GrantSpec(
        grant_type=GrantType.REFRESH_TOKEN,
        handler=refresh,
        public_clients=True,
        confidential_clients=True,
        params=("refresh_token", "scope", "resource"),
        needs=(GrantType.AUTHORIZATION_CODE,),
    ),
    GrantSpec(
        grant_type=GrantType.CLIENT_CREDENTIALS,
        handler=client_credentials,
        public_clients=False,
        confidential_clients=True,
        params=("scope", "resource"),
    ),
    GrantSpec(
        grant_type=GrantType.IMPLICIT,
        handler=None,
        public_clients=True,
        confidential_clients=False,
        enabled=_implicit_allowed,
    ),
)
"""Every grant type, in the order metadata lists them."""


_index: tuple[tuple[GrantSpec, ...], dict[str, GrantSpec]] = ((), {})


def grant_spec(grant_type: str) -> GrantSpec | None:
    """The row for ``grant_type``; None for a grant this server does not know.

    Every token request asks, so the rows are indexed once per table (a test that swaps the
    table in gets a fresh index, because the check is by identity)."""
    global _index
    rows, by_type = _index
    if rows is not GRANTS:
        by_type = {spec.grant_type: spec for spec in GRANTS}
        _index = (GRANTS, by_type)
    return by_type.get(grant_type)


def supported_grant_types(policy: Policy) -> list[str]:
    """RFC 8414 ``grant_types_supported``: every grant the server offers under ``policy``."""
    return [str(spec.grant_type) for spec in GRANTS if spec.enabled(policy)]
