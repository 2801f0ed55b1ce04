"""Pushed authorization requests (RFC 9126) at ``/authorize``: the ``request_uri`` rows of the
check tables, and the hand-over between the steps of a pushed request.

The endpoint that stores them is ``core/par.py``; the rules both share are in its docstring.
Invariants here:

1. ``/authorize`` with ``request_uri`` (§4) accepts only ``client_id`` beside it, which must be
   the pushing client's; anything else is ``invalid_request`` without touching the stored request.
   The request is taken once (``PushedRequestStore.consume``) and then validated again, as any
   request is (the client's registration may have changed since).
2. Once taken, a request that still needs the user (sign-in, consent) is handed to the next step
   under a fresh ``request_uri`` that lives ``pushed_request_step_lifetime`` seconds and is taken
   once too. So the URI the client pushed dies on first use, a replay of it is refused, and the
   sign-in and consent pages resume the request without putting its parameters in a URL.
3. A client registered with ``require_pushed_authorization_requests``, or any client when the
   server setting of that name is on (§5, §6), gets ``invalid_request`` for a plain request, sent
   back to its (registered, matched) redirect URI.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from tokenpath.core.authorization_drafts import TrustedDraft, UntrustedDraft, ValidatedRequest
from tokenpath.core.clock import hash_token
from tokenpath.core.context import Context
from tokenpath.core.errors import InvalidRequest
from tokenpath.core.params import parse_pairs
from tokenpath.core.policy import Policy
from tokenpath.core.records import PushedRequest

__all__ = [
    "REQUEST_URI_PREFIX",
    "Pairs",
    "check_pushed_required",
    "check_request_uri",
    "next_step",
    "store_request",
]

Pairs = tuple[tuple[str, str], ...]

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
"""RFC 9126 §2.2: the URN namespace of the references ``/par`` hands out."""
_BESIDE_REQUEST_URI = frozenset({"client_id", "request_uri"})
_NOT_USABLE = "request_uri is unknown, already used, expired or not this client's"


async def store_request(pairs: Pairs, client_id: str, lifetime: int, ctx: Context) -> str:
    """Keep ``pairs`` under a fresh ``request_uri``; only the URI's hash is stored."""
    now = ctx.clock.now()
    request_uri = REQUEST_URI_PREFIX + ctx.random.token(32)
    await ctx.stores.pushed_requests.add(
        PushedRequest(
            uri_hash=hash_token(request_uri),
            client_id=client_id,
            parameters=json.dumps([list(pair) for pair in pairs]),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return request_uri


async def check_request_uri(draft: UntrustedDraft, ctx: Context) -> None:
    """RFC 9126 §4: take the pushed request once; its parameters replace the ones sent.

    Contributes ``params``, ``resource_values`` (RFC 8707, may repeat) and ``pushed`` (the
    parameters as pushed, for the next step).
    """
    request_uri = draft.params.get("request_uri")
    if request_uri is None:
        return
    extra = sorted(set(draft.params) - _BESIDE_REQUEST_URI)
    if extra:
        raise InvalidRequest(
            f"with request_uri only client_id may be sent, not {' '.join(extra)[:200]}"
        )
    if not request_uri.startswith(REQUEST_URI_PREFIX):
        raise InvalidRequest(f"request_uri must be one /par issued ({REQUEST_URI_PREFIX}...)")
    client_id = draft.params["client_id"]
    taken = await ctx.stores.pushed_requests.consume(
        hash_token(request_uri), client_id, ctx.clock.now()
    )
    if taken is None:
        raise InvalidRequest(_NOT_USABLE)
    pushed: Pairs = tuple((str(k), str(v)) for k, v in json.loads(taken.parameters))
    others = [(name, value) for name, value in pushed if name != "resource"]
    draft.params = parse_pairs(others, max_length=ctx.policy.max_param_length)
    draft.resource_values = tuple(value for name, value in pushed if name == "resource")
    draft.pushed = pushed


def check_pushed_required(draft: TrustedDraft, policy: Policy) -> None:
    """RFC 9126 §5, §6: a client (or server) that requires PAR sends nothing else."""
    required = policy.require_pushed_authorization_requests
    if (required or draft.client.require_pushed_authorization_requests) and not draft.pushed:
        raise InvalidRequest("this client must push its authorization requests to /par")


async def next_step(
    request: ValidatedRequest, resume: Sequence[tuple[str, str]], ctx: Context
) -> Pairs:
    """What the sign-in or consent page sends back to ``/authorize``: ``resume`` as it is for a
    plain request; for a pushed one, ``resume`` kept under a fresh single-use ``request_uri``."""
    if request.pushed is None:
        return tuple(resume)
    client_id = request.client.client_id
    lifetime = ctx.policy.pushed_request_step_lifetime
    request_uri = await store_request(tuple(resume), client_id, lifetime, ctx)
    return (("client_id", client_id), ("request_uri", request_uri))
