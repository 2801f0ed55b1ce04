"""The pushed authorization request endpoint (RFC 9126 §2): the request goes to ``/par`` over
the back channel, and the browser carries only ``client_id`` and a short-lived, single-use
``request_uri``.

Why: the parameters (scope, redirect URI, state, PKCE challenge) no longer travel through the
address bar, the history and the logs on the way, and the server has checked the request, and
who sent it, before a user is ever involved.

``/par`` (§2.1) authenticates the client exactly as ``/token`` does (public clients send
``client_id``), refuses a ``request_uri`` in the body, and validates the authorization request
with the same tables as ``/authorize`` (``core/authorization_request.py``). A rejection is the
JSON error of §2.3: a bad redirect URI is ``invalid_request``, the default §2.3 names for what
``/authorize`` would only show as a page. Success is 201 with ``request_uri`` and ``expires_in``
(§2.2). What ``/authorize`` does with the URI is ``core/pushed_requests.py``.

A ``DPoP`` header with the push (RFC 9449 §10.1) is checked as at ``/token`` (for ``POST`` to
``/par``, nonce and replay included) and binds the code to the proof's key: the stored request
gets ``dpop_jkt`` set to the key's thumbprint, and a ``dpop_jkt`` sent alongside must name that
same key (``invalid_request`` otherwise). While DPoP nonces are on, every answer carries one.
"""

from __future__ import annotations

from collections.abc import Sequence

from tokenpath.core.authorization_request import Rejection, validate
from tokenpath.core.client_auth import authenticate_client, read_credentials
from tokenpath.core.context import Context
from tokenpath.core.dpop_binding import nonce_headers, proven_key
from tokenpath.core.errors import InvalidRequest, OAuthError
from tokenpath.core.messages import NO_STORE, BackchannelRequest, JsonResponse
from tokenpath.core.params import parse_pairs
from tokenpath.core.pushed_requests import Pairs, store_request
from tokenpath.core.replies import error_reply

__all__ = ["push"]

_CLIENT_AUTHENTICATION = frozenset({"client_secret", "client_assertion", "client_assertion_type"})


async def push(request: BackchannelRequest, *, ctx: Context) -> JsonResponse:
    """``POST /par`` (RFC 9126 §2): 201 with the ``request_uri``, or the JSON error (§2.3)."""
    nonce = await nonce_headers(ctx)
    try:
        form = parse_pairs(request.form, max_length=ctx.policy.max_param_length)
        credentials = read_credentials(form, request.authorization)
        client = await authenticate_client(credentials, ctx, address=request.address)
        if "request_uri" in form:
            raise InvalidRequest("request_uri must not be sent to /par (RFC 9126 §2.1)")
        pairs = _authorization_pairs(request.form, client.client_id)
        jkt = await proven_key(request.dpop, ctx.policy.endpoint("/par"), ctx)
        if jkt is not None:
            pairs = _bound_to(pairs, jkt)
        checked = await validate(pairs, ctx, pushed=True)
        if isinstance(checked, Rejection):
            raise checked.error
    except OAuthError as error:
        reply = error_reply(error)
        return JsonResponse(status=reply.status, body=reply.body, headers=reply.headers + nonce)
    lifetime = ctx.policy.pushed_request_lifetime
    request_uri = await store_request(pairs, client.client_id, lifetime, ctx)
    body = {"request_uri": request_uri, "expires_in": lifetime}
    return JsonResponse(status=201, body=body, headers=NO_STORE + nonce)


def _authorization_pairs(form: Sequence[tuple[str, str]], client_id: str) -> Pairs:
    """The authorization request in a ``/par`` body: without the client's credentials, and with
    ``client_id`` (a client using HTTP Basic may leave it out of the body)."""
    pairs = tuple((k, v) for k, v in form if k not in _CLIENT_AUTHENTICATION)
    if not any(name == "client_id" for name, _ in pairs):
        pairs = (("client_id", client_id), *pairs)
    return pairs


def _bound_to(pairs: Pairs, jkt: str) -> Pairs:
    """The request with ``dpop_jkt`` set to the proven key (RFC 9449 §10.1): a ``dpop_jkt``
    already there must be that key's thumbprint."""
    sent = [value for name, value in pairs if name == "dpop_jkt"]
    if sent and sent != [jkt]:
        raise InvalidRequest("dpop_jkt does not match the key of the DPoP proof")
    return pairs if sent else (*pairs, ("dpop_jkt", jkt))
