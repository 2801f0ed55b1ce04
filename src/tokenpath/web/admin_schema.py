"""The admin API's declarations: its operation rows, its request bodies as JSON Schema, and
the small validator that enforces them.

Why one declaration: the OpenAPI document (``web/admin_api.py``) publishes these very schemas,
so what a generated client sends, what schemathesis fuzzes and what the server accepts cannot
drift apart. The validator knows only what the schemas use: objects without extra members,
strings (length, no NUL), integers (bounds; ``true`` is not an integer), booleans, arrays of
strings, and free-form objects of claims (checked again by ``core/claims.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tokenpath.core.context import Context
from tokenpath.core.lifecycle import MAX_OVERLAP, Invalid

__all__ = ["BODIES", "Call", "Operation", "Reply", "Section", "validate"]

Schema = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Call:
    """What an operation gets: the Context, path and query parameters, the validated body."""

    ctx: Context
    path: Mapping[str, str]
    query: Mapping[str, str]
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: object = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Operation:
    """One HTTP operation: routed, documented and dispatched from this row."""

    method: str
    path: str
    handler: Callable[[Call], Awaitable[Reply]]
    summary: str
    ok: int = 200
    body: str | None = None
    """The name of its request body in ``admin_schema.BODIES`` (None: no body)."""
    body_required: bool = True
    query: tuple[str, ...] = ()
    answers: tuple[int, ...] = (404,)
    """Error statuses it can answer besides 400, 401 and 413."""
    response: str = "object"
    """``object``, ``array`` or ``empty``."""


@dataclass(frozen=True, slots=True)
class Section:
    tag: str
    operations: Sequence[Operation] = field(default_factory=tuple)


def _string(max_length: int = 2000, min_length: int = 0) -> Schema:
    return {"type": "string", "minLength": min_length, "maxLength": max_length}


def _strings(max_items: int = 50) -> Schema:
    return {"type": "array", "items": _string(), "maxItems": max_items}


def _object(required: tuple[str, ...] = (), **properties: Schema) -> Schema:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


CLAIMS: Schema = {"type": "object", "description": "OpenID Connect standard claims (Core §5.1)"}

API_SCOPES: Schema = {
    "type": "array",
    "minItems": 1,
    "maxItems": 100,
    "items": _object(("name", "description"), name=_string(100, 1), description=_string(500, 1)),
}

BODIES: dict[str, Schema] = {
    "ApiCreate": _object(
        ("identifier", "scopes"),
        identifier=_string(2000, 1),
        scopes=API_SCOPES,
        token_format={"type": "string", "enum": ["jwt", "opaque"]},
        access_token_lifetime={"type": "integer", "minimum": 1, "maximum": 86400},
        claims={"type": "object"},
    ),
    "ApiUpdate": _object(
        scopes=API_SCOPES,
        token_format={"type": "string", "enum": ["jwt", "opaque"]},
        access_token_lifetime={"type": "integer", "minimum": 1, "maximum": 86400},
        claims={"type": "object"},
    ),
    "ClientCreate": _object(
        ("client_name", "client_type", "scope"),
        client_name=_string(200, 1),
        client_type={"type": "string", "enum": ["confidential", "public"]},
        redirect_uris=_strings(),
        scope=_string(2000, 1),
        grant_types=_strings(10),
        response_types=_strings(10),
        token_endpoint_auth_method=_string(40),
        require_pkce={"type": "boolean"},
        access_token_format={"type": "string", "enum": ["jwt", "opaque"]},
        jwks_uri=_string(),
        post_logout_redirect_uris=_strings(),
        backchannel_logout_uri=_string(),
        subject_type={"type": "string", "enum": ["public", "pairwise"]},
        resources=_strings(20),
        default_resource=_string(),
        dpop_bound_access_tokens={"type": "boolean"},
        require_pushed_authorization_requests={"type": "boolean"},
    ),
    "ClientUpdate": _object(
        client_name=_string(200, 1),
        redirect_uris=_strings(),
        scope=_string(2000, 1),
        grant_types=_strings(10),
        response_types=_strings(10),
        require_pkce={"type": "boolean"},
        access_token_format={"type": "string", "enum": ["jwt", "opaque"]},
        jwks_uri=_string(),
        resources=_strings(20),
        default_resource=_string(),
        dpop_bound_access_tokens={"type": "boolean"},
        require_pushed_authorization_requests={"type": "boolean"},
    ),
    "SecretRotation": _object(
        overlap={"type": "integer", "minimum": 0, "maximum": MAX_OVERLAP, "default": 0}
    ),
    "UserCreate": _object(
        ("username", "password"), username=_string(100, 1), password=_string(1024, 8), claims=CLAIMS
    ),
    "UserUpdate": _object(("claims",), claims=CLAIMS),
    "Password": _object(("password",), password=_string(1024, 8)),
    "GrantRevocation": _object(user=_string(100, 1), client=_string(255, 1), grant=_string(255, 1)),
}


def _check(name: str, value: Any, schema: Schema) -> None:
    kind = schema.get("type")
    if kind == "string":
        if not isinstance(value, str):
            raise Invalid(f"{name} must be a string")
        if not schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", 2000):
            raise Invalid(f"{name} has the wrong length")
        if "\x00" in value:
            raise Invalid(f"{name} must not contain NUL")
        if "enum" in schema and value not in schema["enum"]:
            raise Invalid(f"{name} must be one of {', '.join(schema['enum'])}")
    elif kind == "integer":
        if type(value) is not int or not schema["minimum"] <= value <= schema["maximum"]:
            raise Invalid(
                f"{name} must be an integer from {schema['minimum']} to {schema['maximum']}"
            )
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise Invalid(f"{name} must be true or false")
    elif kind == "array":
        if not isinstance(value, list) or len(value) > schema["maxItems"]:
            raise Invalid(f"{name} must be an array of at most {schema['maxItems']} strings")
        for item in value:
            _check(name, item, schema["items"])
    elif "properties" in schema:
        validate(value, schema, name)
    elif not isinstance(value, dict):
        raise Invalid(f"{name} must be an object")


def validate(body: Any, schema: Schema, name: str = "body") -> dict[str, Any]:
    """``body`` if it matches the object ``schema``; :class:`Invalid` naming the first misfit."""
    if not isinstance(body, dict):
        raise Invalid(f"{name} must be a JSON object")
    unknown = sorted(set(body) - set(schema["properties"]))
    if unknown:
        raise Invalid(f"unknown member {unknown[0]!r}")
    missing = [k for k in schema["required"] if k not in body]
    if missing:
        raise Invalid(f"missing member {missing[0]!r}")
    for key, value in body.items():
        _check(key, value, schema["properties"][key])
    return body
