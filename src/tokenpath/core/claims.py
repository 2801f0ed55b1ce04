"""The user's standard claims a client may see for the scopes it was granted (OIDC Core §5.4).

A minimal stand-in: no scope releases any claim yet, so ID tokens carry only the protocol claims.
"""

from __future__ import annotations

from collections.abc import Sequence

from tokenpath.core.records import User

__all__ = ["claims_for"]


def claims_for(user: User, scopes: Sequence[str]) -> dict[str, object]:
    """The claims of ``user`` that ``scopes`` release (none, for now)."""
    return {}
