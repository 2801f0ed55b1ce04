"""Changing a user's standard claims (OpenID Connect Core §5.1) after creation.

Kept apart from ``core/registration.py`` (which creates clients and users) so each stays
readable; the same validation (``core/claims.py``) and the same ``admin.change`` event apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from tokenpath.core.claims import parse_stored, validate_claims
from tokenpath.core.context import Context
from tokenpath.core.errors import InvalidRequest
from tokenpath.core.records import User
from tokenpath.core.registration import admin_change

__all__ = ["update_user_claims"]


async def update_user_claims(
    ctx: Context, username: str, claims: Mapping[str, object | None]
) -> User:
    """Merge ``claims`` into the user's: a value sets a claim, None removes it; the rest stay.

    The merged set is validated as a whole (``core/claims.py``), so a change can never leave a
    user with claims that could not have been created.
    """
    current = await ctx.stores.users.get_by_username(username)
    if current is None:
        raise InvalidRequest(f"no user {username!r}")
    merged = parse_stored(current.claims)
    for name, value in claims.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    stored_claims = validate_claims(merged)
    await ctx.stores.users.set_claims(current.user_id, stored_claims)
    admin_change(ctx, "user.update", user_id=current.user_id)
    return replace(current, claims=stored_claims)
