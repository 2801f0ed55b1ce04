"""The registration rules every client meets, whoever registers it (the CLI, RFC 7591 over HTTP,
an update): name, redirect and logout URIs, grant and response types, subject and application
type. ``core/registration.py`` creates and changes clients with them; token endpoint
authentication (method, keys) is ``core/auth_metadata.py``.

Which client types may hold a grant, which grants a grant needs beside it, and which grant a
response type belongs to are read from the rows of ``core.grants.registry`` and
``core.response_types`` (RFC 7591 §2.1: grant types and response types must agree). Redirect and
logout URIs follow RFC 6749 §3.1.2 and RFC 9700 §2.1 (RP-Initiated Logout 1.0 §3.1, Back-Channel
Logout 1.0 §2.2); a ``pairwise`` client (OIDC Core §8.1) needs the server's pairwise salt and
redirect URIs on one host; RFC 8252 §7.1 private-use schemes are for ``native`` public clients.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from tokenpath.core.auth_metadata import (
    InvalidClientMetadata,
    check_server_uri,
)
from tokenpath.core.context import Context
from tokenpath.core.errors import InvalidScope
from tokenpath.core.grants.registry import grant_spec
from tokenpath.core.params import parse_scope
from tokenpath.core.policy import Policy
from tokenpath.core.records import ClientType, GrantType, ResponseType
from tokenpath.core.redirect_uris import InvalidRedirectUri, validate_registered_redirect_uri
from tokenpath.core.response_types import RESPONSE_TYPES, response_type_spec

__all__ = [
    "APPLICATION_TYPES",
    "SUBJECT_TYPES",
    "ValidatedMetadata",
    "validate_metadata",
]

SUBJECT_TYPES = ("public", "pairwise")
APPLICATION_TYPES = ("web", "native")


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidClientMetadata("client name must be 1-200 characters")
    return name


def _check_grants(
    client_type: ClientType,
    grants: tuple[GrantType, ...],
    responses: tuple[ResponseType, ...],
    offered: Policy | None,
) -> None:
    """RFC 7591 §2.1; with ``offered``, only grants that policy enables (the implicit switch)."""
    public = client_type is ClientType.PUBLIC
    if not grants:
        raise InvalidClientMetadata("at least one grant type is required")
    for grant in grants:
        spec = grant_spec(grant)
        if spec is None:
            raise InvalidClientMetadata(f"unknown grant type {grant}")
        if offered is not None and not spec.enabled(offered):
            raise InvalidClientMetadata(f"the {grant} grant is not offered by this server")
        if public and not spec.public_clients:
            raise InvalidClientMetadata(f"only confidential clients may use the {grant} grant")
        if not public and not spec.confidential_clients:
            raise InvalidClientMetadata(f"only public clients may use the {grant} grant")
        if spec.needs and not any(needed in grants for needed in spec.needs):
            raise InvalidClientMetadata(f"{grant} needs the {' or '.join(spec.needs)} grant")
    for response in responses:
        response_spec = response_type_spec(response)
        if response_spec is None:
            raise InvalidClientMetadata(f"unknown response type {response}")
        if response_spec.grant_type not in grants:
            raise InvalidClientMetadata(
                f"response_type {response} needs grant_type {response_spec.grant_type}"
            )


@dataclass(frozen=True, slots=True)
class ValidatedMetadata:
    """The validated redirect-, grant- and OpenID-related metadata of a client."""

    name: str
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    grant_types: tuple[GrantType, ...]
    response_types: tuple[ResponseType, ...]
    post_logout_redirect_uris: tuple[str, ...] = ()
    backchannel_logout_uri: str | None = None
    subject_type: str = "public"
    application_type: str = "web"


def _redirect_uris(uris: Sequence[str], *, native: bool) -> tuple[str, ...]:
    return tuple(dict.fromkeys(validate_registered_redirect_uri(u, native=native) for u in uris))


def _application_type(
    client_type: ClientType, requested: str | None, redirect_uris: Sequence[str]
) -> str:
    """OIDC Registration §2; None (the CLI) derives it: a public client with a private-use
    scheme redirect URI is native."""
    if requested is None:
        private_use = any(urlsplit(u).scheme not in ("http", "https") for u in redirect_uris)
        return "native" if client_type is ClientType.PUBLIC and private_use else "web"
    if requested not in APPLICATION_TYPES:
        raise InvalidClientMetadata("application_type must be web or native")
    return requested


def _subject_type(subject_type: str, redirect_uris: tuple[str, ...], ctx: Context) -> str:
    """OIDC Core §8.1: a pairwise client needs the server's salt and one sector host."""
    if subject_type not in SUBJECT_TYPES:
        raise InvalidClientMetadata("subject_type must be public or pairwise")
    if subject_type == "pairwise":
        if not ctx.policy.pairwise_salt:
            raise InvalidClientMetadata("this server offers no pairwise subject identifiers")
        if len({urlsplit(u).hostname or u for u in redirect_uris}) != 1:
            raise InvalidClientMetadata("a pairwise client's redirect URIs must share one host")
    return subject_type


def validate_metadata(
    ctx: Context,
    *,
    client_type: ClientType,
    name: str,
    redirect_uris: Sequence[str],
    scopes: Sequence[str],
    grant_types: Sequence[GrantType],
    response_types: Sequence[ResponseType] | None,
    access_token_format: str = "jwt",  # noqa: S107 - a format name, not a secret
    post_logout_redirect_uris: Sequence[str] = (),
    backchannel_logout_uri: str | None = None,
    subject_type: str = "public",
    application_type: str | None = None,
    offered_only: bool = False,
) -> ValidatedMetadata:
    """Every rule a client's metadata must meet; ``offered_only`` also refuses grants the
    server has switched off (dynamic registration: RFC 7591 §3.2.2 ``invalid_client_metadata``)."""
    grants = tuple(dict.fromkeys(GrantType(g) for g in grant_types))
    if response_types is None:
        # the response types of the client's grants, in the order the grants were given
        response_types = [
            ResponseType(spec.response_type)
            for grant in grants
            for spec in RESPONSE_TYPES
            if spec.grant_type == grant
        ]
    responses = tuple(dict.fromkeys(ResponseType(r) for r in response_types))
    _check_grants(client_type, grants, responses, ctx.policy if offered_only else None)
    if responses and not redirect_uris:
        raise InvalidRedirectUri("at least one redirect URI is required")
    app_type = _application_type(client_type, application_type, redirect_uris)
    native = client_type is ClientType.PUBLIC and app_type == "native"
    uris = _redirect_uris(redirect_uris, native=native)
    # which scopes exist (OpenID or an API's) is checked against the API records, with the
    # client's APIs, by ``core/apis.py::validate_client_apis``
    try:
        scope_list = parse_scope(" ".join(scopes)) if scopes else ()
    except InvalidScope:
        scope_list = ()
    if not scope_list:
        raise InvalidClientMetadata("scopes must be one or more scope tokens (RFC 6749 §3.3)")
    if access_token_format not in ("jwt", "opaque"):
        raise InvalidClientMetadata("access_token_format must be jwt or opaque")
    backchannel = backchannel_logout_uri
    if backchannel is not None:
        backchannel = check_server_uri(backchannel, "backchannel_logout_uri")
    return ValidatedMetadata(
        name=_check_name(name),
        redirect_uris=uris,
        scopes=tuple(scope_list),
        grant_types=grants,
        response_types=responses,
        post_logout_redirect_uris=_redirect_uris(post_logout_redirect_uris, native=native),
        backchannel_logout_uri=backchannel,
        subject_type=_subject_type(subject_type, uris, ctx),
        application_type=app_type,
    )
