"""The client credentials grant (RFC 6749 §4.4): a machine acting for itself.

Only confidential clients may use it (§4.4: "MUST only be used by confidential clients"; its row
in ``core.grants.registry`` says so and the token endpoint enforces it), never with a refresh
token (§4.4.3). The token's ``sub`` is the client id and ``gty`` says
``client_credentials``, so a resource server can never mistake it for a user's token
(RFC 9700 §4.15; RFC 9068 §2.2).
"""

from __future__ import annotations

from collections.abc import Mapping

from tokenpath.core.context import Context
from tokenpath.core.issuance import TokenResponse, issue_access_token
from tokenpath.core.records import Client, GrantType
from tokenpath.core.resources import client_target

__all__ = ["client_credentials"]


async def client_credentials(
    form: Mapping[str, str], client: Client, ctx: Context, jkt: str | None = None
) -> TokenResponse:
    """The token is for the API ``resource`` names (RFC 8707), else the client's default; its
    scope is the requested one, each scope the client's and that API's (``core/resources.py``)."""
    target = await client_target(ctx, form, client)
    issued = await issue_access_token(
        ctx,
        grant_id=None,
        client_id=client.client_id,
        subject=client.client_id,
        scope=target.scope,
        grant_type=GrantType.CLIENT_CREDENTIALS,
        lifetime=target.lifetime(ctx.policy.access_token_lifetime),
        opaque=target.opaque(client),
        api=target.api,
        jkt=jkt,
    )
    return issued.token_response()
