"""The JSON error reply every back-channel endpoint shares (RFC 6749 §5.2, RFC 6750 §3).

``/token``, ``/revoke`` and ``/introspect`` answer an :class:`OAuthError` the same way: its
status and wire body, ``Cache-Control: no-store``, a ``Basic`` challenge when the client
authenticated (or tried to) with HTTP Basic (§5.2: 401 + ``WWW-Authenticate``), and
``Retry-After`` with a 429.
"""

from __future__ import annotations

from tokenpath.core.client_auth import ClientAuthError
from tokenpath.core.errors import OAuthError, SlowDown
from tokenpath.core.messages import NO_STORE, JsonResponse

__all__ = ["error_reply"]


def error_reply(error: OAuthError, *, realm: str = "tokenpath") -> JsonResponse:
    headers = list(NO_STORE)
    if isinstance(error, ClientAuthError) and error.basic:
        headers.append(("WWW-Authenticate", f'Basic realm="{realm}"'))
    if isinstance(error, SlowDown):
        headers.append(("Retry-After", str(error.retry_after)))
    return JsonResponse(status=error.status, body=error.to_dict(), headers=tuple(headers))
