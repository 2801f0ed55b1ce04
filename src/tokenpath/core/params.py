"""Parsing raw request parameters once, by RFC 6749 §3.1/§3.2 rules.

* A parameter sent more than once is an error (§3.1, §3.2: "MUST NOT be included more than once").
* A parameter sent without a value is treated as omitted (§3.1).
* Values longer than the policy limit are refused, so nothing oversized is stored or echoed.
* ``scope`` is a space-delimited set of RFC 6749 §3.3 scope tokens.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from tokenpath.core.errors import InvalidRequest, InvalidScope

__all__ = ["format_scope", "parse_pairs", "parse_scope", "require"]

# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
# Printable ASCII plus space is enough for every parameter we read (RFC 6749 Appendix A).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def parse_pairs(pairs: Iterable[tuple[str, str]], *, max_length: int) -> dict[str, str]:
    """Ordered raw pairs → a dict, or :class:`InvalidRequest` naming the offending parameter."""
    seen: dict[str, str] = {}
    for name, value in pairs:
        if len(name) > 64 or _CONTROL.search(name):
            raise InvalidRequest("malformed parameter name")
        if name in seen:
            raise InvalidRequest(f"parameter {name} is repeated")
        if len(value) > max_length:
            raise InvalidRequest(f"parameter {name} is too long")
        if _CONTROL.search(value):
            raise InvalidRequest(f"parameter {name} contains control characters")
        seen[name] = value
    return {name: value for name, value in seen.items() if value != ""}


def parse_scope(raw: str | None) -> tuple[str, ...] | None:
    """``None`` when absent; otherwise the de-duplicated scope tokens in request order."""
    if raw is None:
        return None
    tokens = raw.split(" ")
    if any(not _SCOPE_TOKEN.fullmatch(t) for t in tokens):
        raise InvalidScope("scope must be space-separated scope tokens")
    return tuple(dict.fromkeys(tokens))


def format_scope(scopes: Iterable[str]) -> str:
    return " ".join(scopes)


def require(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if value is None:
        raise InvalidRequest(f"missing parameter {name}")
    return value
