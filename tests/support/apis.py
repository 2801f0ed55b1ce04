"""The demo notes API as a registered API, for tests whose clients ask for ``notes:*`` scopes.

Written straight to the store (no credentials client), so a test's client list holds only the
clients it registered; tests of the API registry itself use ``core/apis.py``.
"""

from __future__ import annotations

from tokenpath.core.client_auth import hash_client_secret
from tokenpath.core.context import Context
from tokenpath.core.records import Api, ApiScope, Client, ClientType

__all__ = ["API_SECRET", "NOTES_SCOPES", "api_credentials", "ensure_api"]

NOTES_SCOPES = (
    ApiScope(name="notes:read", description="Read your notes"),
    ApiScope(name="notes:write", description="Create, change and delete your notes"),
)


async def ensure_api(ctx: Context, identifier: str | None = None) -> Api:
    """The API ``identifier`` (default: the server's default API), registered if it is not."""
    identifier = identifier or ctx.policy.audience
    assert identifier is not None, "no API identifier and no default API"
    existing = await ctx.stores.apis.get(identifier)
    if existing is not None:
        return existing
    api = Api(
        identifier=identifier, scopes=NOTES_SCOPES, client_id=f"api:{identifier}"[:64], created_at=0
    )
    await ctx.stores.apis.add(api)
    return api


API_SECRET = "api-introspection-secret-for-tests"


async def api_credentials(ctx: Context, identifier: str | None = None) -> tuple[str, str]:
    """The API's introspection credentials (client id, secret), created on first use."""
    api = await ensure_api(ctx, identifier)
    if await ctx.stores.clients.get(api.client_id) is None:
        await ctx.stores.clients.add(
            Client(
                client_id=api.client_id,
                client_name=f"API {api.identifier}",
                client_type=ClientType.CONFIDENTIAL,
                secret_hash=hash_client_secret(API_SECRET, salt="test-salt"),
                redirect_uris=(),
                scopes=(),
                grant_types=(),
                response_types=(),
            )
        )
    return api.client_id, API_SECRET
