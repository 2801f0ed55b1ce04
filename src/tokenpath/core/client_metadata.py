"""Client metadata as JSON (RFC 7591 §2, §3.1; RFC 7592 §2.2), parsed once into a typed value.

Why a module of its own: the wire format of dynamic registration is JSON, not form pairs, and
every syntax failure must be a 400 with the right code before any rule about clients is applied
(those rules are ``core/registration.py``'s, shared with the command line). In order:

1. The body is ``application/json`` (RFC 7591 §3.1), at most :data:`MAX_METADATA_BYTES`, UTF-8,
   one JSON object with no repeated member and no ``NaN``/``Infinity``: otherwise
   ``invalid_request`` (not JSON) or ``invalid_client_metadata`` (JSON, but not metadata).
2. Every member is one this server registers (:data:`FIELDS`), with its JSON type; a member
   whose value is ``null`` counts as absent, whatever its name. Any other member is
   ``invalid_client_metadata``: the server stores only what it uses, so ``contacts``,
   ``logo_uri``, ``client_uri``, ``policy_uri`` and ``tos_uri`` are refused rather than echoed
   unseen (RFC 7591 §5: an unverified logo or link on the consent
   page helps phishing). ``client_id`` and ``client_secret`` are read but never chosen by the
   client (RFC 9700 §4.15): on registration they are ignored, on update they must match.
3. Members only the server issues (``registration_access_token``, ``registration_client_uri``,
   ``client_id_issued_at``, ``client_secret_expires_at``) are refused in an update
   (RFC 7592 §2.2).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tokenpath.core.auth_metadata import InvalidClientMetadata
from tokenpath.core.errors import InvalidRequest
from tokenpath.core.records import Client, GrantType, ResponseType
from tokenpath.core.response_types import response_type_spec

__all__ = [
    "FIELDS",
    "ID_TOKEN_ALG",
    "MAX_METADATA_BYTES",
    "ClientMetadata",
    "client_information",
    "parse_metadata",
]

MAX_METADATA_BYTES = 16 * 1024
"""Longest registration body read: metadata is small, and a bound keeps parsing cheap."""
ID_TOKEN_ALG = "ES256"
"""The one ``id_token_signed_response_alg`` the server's keys sign with (OIDC Registration §2)."""

_STRING, _LIST, _OBJECT, _BOOLEAN = (
    "a string",
    "an array of strings",
    "a JSON object",
    "true or false",
)
FIELDS: Mapping[str, str] = {
    "redirect_uris": _LIST,
    "token_endpoint_auth_method": _STRING,
    "grant_types": _LIST,
    "response_types": _LIST,
    "client_name": _STRING,
    "scope": _STRING,
    "jwks": _OBJECT,
    "jwks_uri": _STRING,
    "post_logout_redirect_uris": _LIST,
    "backchannel_logout_uri": _STRING,
    "subject_type": _STRING,
    "application_type": _STRING,
    "id_token_signed_response_alg": _STRING,
    "require_pushed_authorization_requests": _BOOLEAN,
    "dpop_bound_access_tokens": _BOOLEAN,  # RFC 9449 §5.2
    "client_id": _STRING,
    "client_secret": _STRING,
}
"""Every member the server reads, and its JSON type."""
SERVER_ISSUED = (
    "registration_access_token",
    "registration_client_uri",
    "client_id_issued_at",
    "client_secret_expires_at",
)
_MAX_NAME_SHOWN = 40


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientMetadata:
    """What a client asked to register; ``None`` where it sent nothing (defaults apply later)."""

    redirect_uris: tuple[str, ...] = ()
    token_endpoint_auth_method: str | None = None
    grant_types: tuple[GrantType, ...] | None = None
    response_types: tuple[ResponseType, ...] | None = None
    client_name: str | None = None
    scope: str | None = None
    jwks: str | None = None
    """The JWK Set as JSON text (the form ``core/registration.py`` checks and stores)."""
    jwks_uri: str | None = None
    post_logout_redirect_uris: tuple[str, ...] = ()
    backchannel_logout_uri: str | None = None
    subject_type: str = "public"
    application_type: str = "web"
    require_pushed_authorization_requests: bool = False
    """RFC 9126 §6: the client's authorization requests are accepted only through ``/par``."""
    dpop_bound_access_tokens: bool = False
    """RFC 9449 §5.2: the client always sends DPoP proofs; token requests without one fail."""
    client_id: str | None = None
    client_secret: str | None = None

    @property
    def public(self) -> bool:
        """RFC 7591 §2: ``none`` is a public client; the default is ``client_secret_basic``."""
        return self.token_endpoint_auth_method == "none"

    def grants_and_responses(
        self,
    ) -> tuple[tuple[GrantType, ...], tuple[ResponseType, ...] | None]:
        """RFC 7591 §2 defaults, kept consistent (§2.1): neither given is code alone; response
        types alone imply their grants; grant types alone imply their response types (None)."""
        if self.grant_types is not None:
            return self.grant_types, self.response_types
        if self.response_types is None:
            return (GrantType.AUTHORIZATION_CODE,), (ResponseType.CODE,)
        grants: list[GrantType] = []
        for response in self.response_types:
            spec = response_type_spec(response)
            if spec is not None and GrantType(spec.grant_type) not in grants:
                grants.append(GrantType(spec.grant_type))
        return tuple(grants), self.response_types


class _Repeated(Exception):
    """A JSON object named a member twice (RFC 8259 §4: names SHOULD be unique)."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members: dict[str, Any] = {}
    for name, value in pairs:
        if name in members:
            raise _Repeated(name)
        members[name] = value
    return members


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_object(body: bytes, content_type: str | None) -> dict[str, Any]:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise InvalidRequest("the request body must be application/json (RFC 7591 §3.1)")
    if len(body) > MAX_METADATA_BYTES:
        raise InvalidClientMetadata(f"client metadata is larger than {MAX_METADATA_BYTES} bytes")
    try:
        value = json.loads(
            body.decode("utf-8"), object_pairs_hook=_unique, parse_constant=_no_constant
        )
    except _Repeated as repeated:
        raise InvalidClientMetadata(f"member {_shown(str(repeated))} is repeated") from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidRequest("the request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise InvalidClientMetadata("client metadata must be a JSON object")
    return value


def _shown(name: str) -> str:
    return repr(name if len(name) <= _MAX_NAME_SHOWN else name[:_MAX_NAME_SHOWN] + "...")


def _typed(name: str, value: object) -> object:
    kind = FIELDS[name]
    if kind == _STRING and isinstance(value, str):
        return value
    if kind == _LIST and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    if kind == _OBJECT and isinstance(value, dict):
        return json.dumps(value)
    if kind == _BOOLEAN and isinstance(value, bool):
        return value
    raise InvalidClientMetadata(f"{name} must be {kind}")


def _vocabulary(name: str, values: tuple[str, ...], kind: type[Any]) -> tuple[Any, ...]:
    try:
        return tuple(dict.fromkeys(kind(v) for v in values))
    except ValueError:
        raise InvalidClientMetadata(f"{name} holds a value this server does not know") from None


def parse_metadata(body: bytes, content_type: str | None, *, update: bool) -> ClientMetadata:
    """The metadata in a registration (``update=False``) or update request body."""
    members = _json_object(body, content_type)
    values: dict[str, Any] = {}
    for name, value in members.items():
        if name in SERVER_ISSUED and update:
            raise InvalidRequest(f"{name} is issued by the server, never sent (RFC 7592 §2.2)")
        if value is None:
            continue
        if name not in FIELDS:
            raise InvalidClientMetadata(f"unsupported client metadata {_shown(name)}")
        values[name] = _typed(name, value)
    if values.pop("id_token_signed_response_alg", ID_TOKEN_ALG) != ID_TOKEN_ALG:
        raise InvalidClientMetadata(f"id_token_signed_response_alg must be {ID_TOKEN_ALG}")
    if "grant_types" in values:
        values["grant_types"] = _vocabulary("grant_types", values["grant_types"], GrantType)
    if "response_types" in values:
        responses = values["response_types"]
        values["response_types"] = _vocabulary("response_types", responses, ResponseType)
    if not update:
        values.pop("client_id", None)  # server-assigned (RFC 7591 §3.2.1, RFC 9700 §4.15)
        values.pop("client_secret", None)
    return ClientMetadata(**values)


def client_information(
    client: Client,
    *,
    registration_client_uri: str,
    registration_access_token: str,
    client_secret: str | None = None,
) -> dict[str, object]:
    """RFC 7591 §3.2.1 / RFC 7592 §3: the metadata as registered, plus what the server issued.

    The client secret is shown only when it was just made (the server keeps its hash only); the
    registration access token is echoed from the request that presented it.
    """
    body: dict[str, object] = {
        "client_id": client.client_id,
        "client_id_issued_at": client.created_at,
        "client_name": client.client_name,
        "redirect_uris": list(client.redirect_uris),
        "grant_types": [str(g) for g in client.grant_types],
        "response_types": [str(r) for r in client.response_types],
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "scope": " ".join(client.scopes),
        "application_type": client.application_type,
        "subject_type": client.subject_type,
        "id_token_signed_response_alg": ID_TOKEN_ALG,
        "require_pushed_authorization_requests": client.require_pushed_authorization_requests,
        "dpop_bound_access_tokens": client.dpop_bound_access_tokens,
    }
    if client.post_logout_redirect_uris:
        body["post_logout_redirect_uris"] = list(client.post_logout_redirect_uris)
    if client.backchannel_logout_uri is not None:
        body["backchannel_logout_uri"] = client.backchannel_logout_uri
    if client.jwks is not None:
        body["jwks"] = json.loads(client.jwks)
    if client.jwks_uri is not None:
        body["jwks_uri"] = client.jwks_uri
    if client_secret is not None:
        body["client_secret"] = client_secret
    if client.secret_hash is not None:
        body["client_secret_expires_at"] = 0  # RFC 7591 §3.2.1: 0 is "never"
    body["registration_access_token"] = registration_access_token
    body["registration_client_uri"] = registration_client_uri
    return body
