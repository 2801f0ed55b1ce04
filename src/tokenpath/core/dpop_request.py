"""``dpop_jkt`` in the authorization request (RFC 9449 §10): the client names the key its code's
token request will prove, so a code stolen on its way back is useless without that key — a
PKCE-like binding for clients that use DPoP. The check is one row of ``TRUSTED_CHECKS``
(``core/authorization_request.py``); the token endpoint enforces the binding
(``core.dpop_binding.check_code_key``).
"""

from __future__ import annotations

import re

from tokenpath.core.authorization_drafts import TrustedDraft, earlier
from tokenpath.core.errors import InvalidRequest
from tokenpath.core.policy import Policy
from tokenpath.core.records import ResponseType

__all__ = ["check_dpop_jkt"]

_THUMBPRINT = re.compile(r"[A-Za-z0-9_-]{43}")
"""An RFC 7638 SHA-256 thumbprint: 32 bytes, base64url without padding."""


def check_dpop_jkt(draft: TrustedDraft, policy: Policy) -> None:
    """§10: ``dpop_jkt`` at ``/authorize`` binds the code to a key (a thumbprint's syntax only;
    the token request proves the key). Only a code can be bound: a token delivered in a
    redirect carries no proof, so asking for binding with ``response_type=token`` is refused."""
    jkt = draft.params.get("dpop_jkt")
    if jkt is None:
        return
    if earlier(draft.response_type, "response_type") is not ResponseType.CODE:
        raise InvalidRequest("dpop_jkt binds an authorization code; use response_type=code")
    if not _THUMBPRINT.fullmatch(jkt):
        raise InvalidRequest("dpop_jkt must be a base64url SHA-256 JWK thumbprint")
    draft.dpop_jkt = jkt
