"""Users' standard claims (OpenID Connect Core 1.0 §5.1) and which scopes release them (§5.4).

A relying party shows these values to people and follows their URLs, so what the server stores is
checked once, when it is stored (:func:`validate_claims`), and released only as the user approved
(:func:`claims_for`):

* Only the §5.1 names are stored, each with its JSON type: strings, booleans for
  ``email_verified`` and ``phone_number_verified``, a number of seconds for ``updated_at``, and an
  object with the §5.1.1 member names for ``address``. ``sub`` is never stored: it is derived per
  client (§8, ``core/subjects.py``).
* Strings are non-empty, bounded and free of control characters; ``profile``, ``picture`` and
  ``website`` are absolute ``http``/``https`` URLs (a ``javascript:`` URL would run in the relying
  party's page); ``birthdate`` is ``YYYY-MM-DD``, ``YYYY`` or ``0000-MM-DD`` (§5.1).
* A claim leaves the server only when a granted scope releases it (§5.4): ``profile``, ``email``,
  ``address`` and ``phone``; ``openid`` alone releases nothing but ``sub``.
* The stored text is canonical JSON (sorted keys, no spaces), so equal claims are equal rows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Literal
from urllib.parse import urlsplit

from tokenpath.core.errors import InvalidRequest
from tokenpath.core.records import User

__all__ = [
    "ADDRESS_MEMBERS",
    "MAX_CLAIMS_JSON",
    "SCOPE_CLAIMS",
    "STANDARD_CLAIMS",
    "SUPPORTED_CLAIMS",
    "ClaimType",
    "canonical_json",
    "claims_for",
    "parse_stored",
    "released_by",
    "validate_claims",
]

ClaimType = Literal["string", "url", "date", "boolean", "number", "address"]

STANDARD_CLAIMS: Mapping[str, ClaimType] = MappingProxyType(
    {
        "name": "string",
        "given_name": "string",
        "family_name": "string",
        "middle_name": "string",
        "nickname": "string",
        "preferred_username": "string",
        "profile": "url",
        "picture": "url",
        "website": "url",
        "email": "string",
        "email_verified": "boolean",
        "gender": "string",
        "birthdate": "date",
        "zoneinfo": "string",
        "locale": "string",
        "phone_number": "string",
        "phone_number_verified": "boolean",
        "address": "address",
        "updated_at": "number",
    }
)
"""Every claim a user record may hold (§5.1), with its JSON type; ``sub`` is not one of them."""

ADDRESS_MEMBERS = (
    "formatted",
    "street_address",
    "locality",
    "region",
    "postal_code",
    "country",
)
"""The members of the ``address`` claim (§5.1.1), all strings."""

SCOPE_CLAIMS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "profile": (
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ),
        "email": ("email", "email_verified"),
        "address": ("address",),
        "phone": ("phone_number", "phone_number_verified"),
    }
)
"""§5.4: the claims each scope asks for."""

SUPPORTED_CLAIMS: tuple[str, ...] = ("sub", *STANDARD_CLAIMS)
"""What discovery lists as ``claims_supported`` (OpenID Connect Discovery 1.0 §3)."""

MAX_STRING = 256
"""Longest plain string claim (names, email, phone number, zone, locale)."""
MAX_URL = 2000
"""Longest URL claim (the same bound the server keeps for redirect URIs)."""
MAX_FORMATTED = 1024
"""Longest ``address.formatted`` (it may hold several lines)."""
MAX_CLAIMS_JSON = 8192
"""Longest stored claims text: a user record never grows without bound."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Control characters; a formatted address may still hold line breaks (§5.1.1)."""
_LINE_BREAK = re.compile(r"[\r\n]")
_BIRTHDATE = re.compile(r"\d{4}(-\d{2}-\d{2})?")


def released_by(scopes: Sequence[str]) -> frozenset[str]:
    """The claim names the granted ``scopes`` release (§5.4)."""
    return frozenset(name for scope in scopes for name in SCOPE_CLAIMS.get(scope, ()))


def parse_stored(text: str) -> dict[str, object]:
    """A stored claims text as a dict; anything but a JSON object counts as no claims."""
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def claims_for(user: User, scopes: Sequence[str]) -> dict[str, object]:
    """The user's stored claims that ``scopes`` release, without ``sub`` (the caller adds it)."""
    released = released_by(scopes)
    stored = parse_stored(user.claims)
    return {name: stored[name] for name in STANDARD_CLAIMS if name in released and name in stored}


def canonical_json(claims: Mapping[str, object]) -> str:
    """The one text a set of claims is stored as (sorted keys, no spaces, UTF-8 kept)."""
    return json.dumps(claims, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _string(name: str, value: object, *, limit: int = MAX_STRING, lines: bool = False) -> str:
    if not isinstance(value, str):
        raise InvalidRequest(f"claim {name} must be a string")
    if not value.strip():
        raise InvalidRequest(f"claim {name} must not be empty (use null to remove it)")
    if len(value) > limit:
        raise InvalidRequest(f"claim {name} is longer than {limit} characters")
    if _CONTROL.search(value) or (not lines and _LINE_BREAK.search(value)):
        raise InvalidRequest(f"claim {name} contains control characters")
    return value


def _url(name: str, value: object) -> str:
    text = _string(name, value, limit=MAX_URL)
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("https", "http") or not parts.netloc:
        raise InvalidRequest(f"claim {name} must be an absolute http or https URL")
    if any(c.isspace() for c in text):
        raise InvalidRequest(f"claim {name} must not contain spaces")
    return text


def _address(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise InvalidRequest("claim address must be a JSON object (OpenID Connect Core §5.1.1)")
    unknown = sorted(str(k) for k in value if k not in ADDRESS_MEMBERS)
    if unknown:
        raise InvalidRequest(
            f"unknown address member {unknown[0]}; use: {', '.join(ADDRESS_MEMBERS)}"
        )
    members = {
        key: _string(
            f"address.{key}",
            value[key],
            limit=MAX_FORMATTED if key == "formatted" else MAX_STRING,
            lines=key in ("formatted", "street_address"),
        )
        for key in ADDRESS_MEMBERS
        if key in value
    }
    if not members:
        raise InvalidRequest("claim address must have at least one member")
    return members


def _check(name: str, kind: ClaimType, value: object) -> object:
    if value is None:
        raise InvalidRequest(f"claim {name} must not be null")
    if kind == "boolean":
        if not isinstance(value, bool):
            raise InvalidRequest(f"claim {name} must be true or false")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**53:
            raise InvalidRequest(f"claim {name} must be a whole number of seconds since 1970")
        return value
    if kind == "address":
        return _address(value)
    if kind == "url":
        return _url(name, value)
    text = _string(name, value)
    if kind == "date" and not _BIRTHDATE.fullmatch(text):
        raise InvalidRequest(f"claim {name} must be YYYY-MM-DD or YYYY")
    if name == "email" and (text.count("@") != 1 or any(c.isspace() for c in text)):
        raise InvalidRequest("claim email must be an email address")
    return text


def validate_claims(raw: Mapping[str, object]) -> str:
    """The canonical JSON text to store for ``raw``, or :class:`InvalidRequest` saying why not."""
    if "sub" in raw:
        raise InvalidRequest("claim sub is assigned by the server and cannot be set")
    unknown = sorted(str(name) for name in raw if name not in STANDARD_CLAIMS)
    if unknown:
        raise InvalidRequest(f"unknown claim {unknown[0]} (OpenID Connect Core §5.1 names only)")
    checked = {name: _check(name, STANDARD_CLAIMS[name], raw[name]) for name in raw}
    text = canonical_json(checked)
    if len(text.encode("utf-8")) > MAX_CLAIMS_JSON:
        raise InvalidRequest(f"claims are larger than {MAX_CLAIMS_JSON} bytes")
    return text
