"""Registered APIs for the admin API: ``core/apis.py``'s rules, refused the lifecycle way.

The CLI's ``tokenpath api`` commands and the admin API's ``/apis`` operations both end in
``core/apis.py``; here its protocol errors become :class:`Invalid`, :class:`NotFound` and
:class:`Conflict`, so the admin API answers 422, 404 and 409 like it does for clients.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tokenpath.core import apis
from tokenpath.core.context import Context
from tokenpath.core.errors import OAuthError
from tokenpath.core.lifecycle.errors import Conflict, Invalid, NotFound
from tokenpath.core.records import Api, ApiScope

__all__ = ["add_api", "change_api", "delete_api", "find_api", "list_apis"]


async def list_apis(ctx: Context) -> Sequence[Api]:
    return await ctx.stores.apis.list()


async def find_api(ctx: Context, identifier: str) -> Api:
    api = await ctx.stores.apis.get(identifier)
    if api is None:
        raise NotFound(f"no API {identifier!r}")
    return api


async def add_api(
    ctx: Context,
    *,
    identifier: str,
    scopes: Sequence[ApiScope],
    token_format: str = "jwt",  # noqa: S107 - a format name, not a secret
    access_token_lifetime: int | None = None,
    claims: Mapping[str, object] | None = None,
) -> tuple[Api, str]:
    """Register an API; its credentials' secret is returned once."""
    if await ctx.stores.apis.get(identifier) is not None:
        raise Conflict(f"the API {identifier} is already registered")
    try:
        return await apis.add_api(
            ctx,
            identifier=identifier,
            scopes=scopes,
            token_format=token_format,
            access_token_lifetime=access_token_lifetime,
            claims=claims,
        )
    except OAuthError as error:
        raise Invalid(error.description) from None


async def change_api(
    ctx: Context,
    identifier: str,
    *,
    scopes: Sequence[ApiScope] | None = None,
    token_format: str | None = None,
    access_token_lifetime: int | None = None,
    claims: Mapping[str, object] | None = None,
) -> Api:
    await find_api(ctx, identifier)
    try:
        return await apis.update_api(
            ctx,
            identifier,
            scopes=scopes,
            token_format=token_format,
            access_token_lifetime=access_token_lifetime,
            claims=claims,
        )
    except OAuthError as error:
        raise Invalid(error.description) from None


async def delete_api(ctx: Context, identifier: str) -> None:
    """Forget the API and its credentials; its tokens are inactive from then on."""
    if not await apis.delete_api(ctx, identifier):
        raise NotFound(f"no API {identifier!r}")
