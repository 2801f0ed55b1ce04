"""Registered APIs for the admin API: ``core/apis.py``'s rules, refused the lifecycle way.

The CLI's ``tokenpath api`` commands and the admin API's ``/apis`` operations both end in
``core/apis.py``; here its protocol errors become :class:`Invalid`, :class:`NotFound` and
:class:`Conflict`, so the admin API answers 422, 404 and 409 like it does for clients.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tokenpath.core import apis
from tokenpath.core.context import Context
from tokenpath.core.errors import OAuthError
from tokenpath.core.lifecycle.errors import Conflict, Invalid, NotFound
from tokenpath.core.records import Api

__all__ = ["add_api", "change_api", "delete_api", "find_api", "list_apis"]


async def list_apis(ctx: Context) -> Sequence[Api]:
    return await ctx.stores.apis.list()


async def find_api(ctx: Context, identifier: str) -> Api:
    api = await ctx.stores.apis.get(identifier)
    if api is None:
        raise NotFound(f"no API {identifier!r}")
    return api


async def add_api(ctx: Context, **options: Any) -> tuple[Api, str]:
    """Register an API (``core/apis.py``'s ``add_api`` options); its credentials' secret is
    returned once."""
    if await ctx.stores.apis.get(options.get("identifier", "")) is not None:
        raise Conflict(f"the API {options.get('identifier')} is already registered")
    try:
        return await apis.add_api(ctx, **options)
    except OAuthError as error:
        raise Invalid(error.text) from None


async def change_api(ctx: Context, identifier: str, **changes: Any) -> Api:
    """Change an API (``core/apis.py``'s ``update_api`` options); what is None stays."""
    await find_api(ctx, identifier)
    try:
        return await apis.update_api(ctx, identifier, **changes)
    except OAuthError as error:
        raise Invalid(error.text) from None


async def delete_api(ctx: Context, identifier: str) -> None:
    """Forget the API and its credentials; its tokens are inactive from then on."""
    if not await apis.delete_api(ctx, identifier):
        raise NotFound(f"no API {identifier!r}")
