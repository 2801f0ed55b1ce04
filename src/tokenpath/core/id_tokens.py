"""ID tokens (OpenID Connect Core §2): a signed statement, for one client, that a user signed in.

One function mints every ID token, at the authorization endpoint (``id_token``,
``id_token token``: Core §3.2.2.10) and at the token endpoint (code exchange: §3.1.3.3;
refresh: §12.2), so their shape cannot drift. Claims:

* ``iss`` (the issuer, exactly), ``sub`` (:func:`~tokenpath.core.subjects.subject_for`: public
  or pairwise, §8), ``aud`` (the client id, our only audience, so ``azp`` adds nothing: §2),
  ``iat``, ``exp`` (``Policy.id_token_lifetime``);
* ``auth_time`` always when known (§2: REQUIRED once ``max_age`` was asked for; always giving it
  means a client never has to guess);
* ``nonce`` as the authorization request sent it (§3.1.2.1, §3.2.2.1), never on refresh (§12.2);
* ``at_hash`` whenever an access token is issued alongside (§3.1.3.6, §3.2.2.9): the left half of
  the SHA-256 of its ASCII octets, base64url — SHA-256 because the tokens are ES256-signed;
  ``c_hash`` never, since the hybrid flow (the only one that returns a code with an ID token) is
  refused;
* ``sid``: the browser session's public id (Front-/Back-Channel Logout 1.0), when there is one;
* the user's claims for the granted scopes only when no access token is issued
  (``response_type=id_token``, §5.4); otherwise the client asks the userinfo endpoint.

Signed by the server's ES256 keys with JOSE ``typ`` ``JWT``, so no resource server mistakes an ID
token for an access token (``at+jwt``, RFC 9068 §2.1).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping

from tokenpath.core.context import Context
from tokenpath.core.records import Client
from tokenpath.core.signing import ID_TOKEN_TYP
from tokenpath.core.subjects import subject_for

__all__ = ["ID_TOKEN_CLAIMS", "half_hash", "issue_id_token"]

ID_TOKEN_CLAIMS: tuple[str, ...] = (
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "at_hash",
    "sid",
)
"""The protocol claims an ID token can carry; user claims never override one of them."""


def half_hash(token: str) -> str:
    """OIDC Core §3.1.3.6 ``at_hash``: base64url of the left half of SHA-256 of the ASCII token."""
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")


async def issue_id_token(
    ctx: Context,
    *,
    client: Client,
    user_id: str,
    auth_time: int | None,
    nonce: str | None = None,
    sid: str | None = None,
    access_token: str | None = None,
    user_claims: Mapping[str, object] | None = None,
) -> str:
    """Sign an ID token for ``user_id`` addressed to ``client`` (the claims in the docstring)."""
    now = ctx.clock.now()
    claims = {k: v for k, v in (user_claims or {}).items() if k not in ID_TOKEN_CLAIMS}
    claims.update(
        iss=ctx.policy.issuer,
        sub=subject_for(user_id, client, ctx.policy),
        aud=client.client_id,
        iat=now,
        exp=now + ctx.policy.id_token_lifetime,
    )
    optional: dict[str, object | None] = {
        "auth_time": auth_time,
        "nonce": nonce,
        "at_hash": half_hash(access_token) if access_token is not None else None,
        "sid": sid,
    }
    claims.update({name: value for name, value in optional.items() if value is not None})
    return await ctx.signer.sign(claims, typ=ID_TOKEN_TYP)
