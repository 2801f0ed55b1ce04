"""Delivering authorization responses: query, fragment, form_post, each with ``iss`` (RFC 9207).

* RFC 6749 §4.1.2: code responses go in the query, keeping any query the redirect URI has.
* RFC 6749 §4.2.2: token responses go in the fragment; OAuth 2.0 Multiple Response Type
  Encoding Practices §3.0 forbids query for them.
* OAuth 2.0 Form Post Response Mode: an auto-submitting POST to the redirect URI.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from urllib.parse import urlencode

from tokenpath.core.messages import FormPost, Redirect

__all__ = ["ResponseMode", "deliver"]


class ResponseMode(StrEnum):
    QUERY = "query"
    FRAGMENT = "fragment"
    FORM_POST = "form_post"


def deliver(
    redirect_uri: str, mode: ResponseMode, params: Sequence[tuple[str, str]]
) -> Redirect | FormPost:
    """Encode ``params`` (already including ``iss``) for ``redirect_uri`` in ``mode``."""
    if mode is ResponseMode.FORM_POST:
        return FormPost(action=redirect_uri, fields=tuple(params))
    encoded = urlencode(list(params))
    if mode is ResponseMode.FRAGMENT:
        return Redirect(location=f"{redirect_uri}#{encoded}")
    separator = "&" if "?" in redirect_uri else "?"
    return Redirect(location=f"{redirect_uri}{separator}{encoded}")
