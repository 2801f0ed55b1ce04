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
from tokenpath.core.errors import InvalidScope
from tokenpath.core.issuance import TokenResponse, issue_access_token
from tokenpath.core.params import parse_scope
from tokenpath.core.records import Client, GrantType

__all__ = ["client_credentials"]


def _scopes(form: Mapping[str, str], client: Client, supported: tuple[str, ...]) -> tuple[str, ...]:
    requested = parse_scope(form.get("scope"))
    if requested is None:
        return client.default_scopes or client.scopes
    unknown = [s for s in requested if s not in client.scopes or s not in supported]
    if unknown:
        raise InvalidScope(f"scope not allowed for this client: {' '.join(unknown)}")
    return requested


async def client_credentials(
    form: Mapping[str, str], client: Client, ctx: Context, jkt: str | None = None
) -> TokenResponse:
    scope = _scopes(form, client, ctx.policy.scopes_supported)
    issued = await issue_access_token(
        ctx,
        grant_id=None,
        client_id=client.client_id,
        subject=client.client_id,
        scope=scope,
        grant_type=GrantType.CLIENT_CREDENTIALS,
        lifetime=ctx.policy.access_token_lifetime,
        opaque=client.access_token_format == "opaque",
        jkt=jkt,
    )
    return issued.token_response()
