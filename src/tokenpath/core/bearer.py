"""How a bearer token is presented (RFC 6750 §2), shared by ``/userinfo`` and the resource
library so both read the ``Authorization`` header by the same grammar and refuse a token in the
URI query the same way.

This module uses nothing but the standard library and ``core/errors.py``: the resource library,
which may import only generic core modules, depends on it.
"""

from __future__ import annotations

import re

from tokenpath.core.errors import InvalidRequest

__all__ = ["QueryTokenRefused", "header_token", "quote"]

# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


class QueryTokenRefused(InvalidRequest):
    """A token sent only in ``?access_token=``: answered like no token (401), with the reason."""

    status = 401


def header_token(value: str) -> str | None:
    """The token of one ``Authorization`` header value, or None for a scheme other than Bearer.

    The auth-scheme is case-insensitive (RFC 9110 §11.1); a Bearer value that is not exactly one
    b64token (RFC 6750 §2.1) is :class:`InvalidRequest`.
    """
    scheme, _, rest = value.partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = rest.strip(" ")
    if not _B64TOKEN.fullmatch(token):
        raise InvalidRequest("the Authorization header must be Bearer and one token")
    return token


def quote(value: str) -> str:
    """An RFC 9110 §5.6.4 quoted-string body without the characters that would need escaping."""
    return value.replace("\\", "").replace('"', "")
