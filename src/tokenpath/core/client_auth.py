"""Client authentication at the token endpoint (RFC 6749 §2.3, §3.2.1).

Methods: ``client_secret_basic`` (§2.3.1, credentials form-urlencoded before base64),
``client_secret_post`` (§2.3.1 body parameters; OAuth 2.1 makes it mandatory to support) and
``private_key_jwt`` (RFC 7523, see ``client_assertion.py``) and ``none`` for public clients,
which identify themselves with ``client_id`` and must prove possession another way (PKCE). A
request may use only one method (§2.3).

Failed authentications are counted per client id in shared storage (a token bucket with
back-off, ``core.ports.Limit``); unknown ids, and ids longer than :data:`MAX_CLIENT_ID`, all
count in one shared bucket, so invented ids neither open a bucket each nor store anything of
their size. Past ``Policy.client_auth_failures_per_minute`` further *failures* get 429 with
``Retry-After`` (catalog A20). A correct credential is always accepted: every credential here is
unguessable (a 256-bit secret or a private key), so the throttle sheds a misbehaving caller's
load rather than slowing a search that cannot succeed, and anyone who knows a client id cannot
lock that client out by sending bad secrets under it. It also means a successful
authentication touches no counter: no read or write beyond the client record.

A rotated secret (``tokenpath client rotate-secret --overlap``) is still accepted until the
overlap ends, so a client can be redeployed with the new one without a failed request; a
disabled client authenticates with nothing.

Client secrets are 256-bit random values, so they are stored as salted SHA-256 rather than with a
slow password hash: a slow hash defends low-entropy secrets against offline guessing, which is
not a threat to 2^256 candidates, and would cost every token request tens of milliseconds.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from urllib.parse import unquote_plus

from tokenpath.core.client_assertion import ASSERTION_TYPE, verify_client_assertion
from tokenpath.core.clock import TokenSource, constant_time_equals
from tokenpath.core.context import Context
from tokenpath.core.errors import InvalidClient, InvalidRequest, SlowDown
from tokenpath.core.events import Event, EventName, Outcome, bounded
from tokenpath.core.messages import ClientCredentials
from tokenpath.core.ports import Limit
from tokenpath.core.records import Client

__all__ = [
    "AUTH_METHODS",
    "MAX_CLIENT_ID",
    "ClientAuthError",
    "authenticate_client",
    "hash_client_secret",
    "new_client_secret",
    "read_credentials",
    "verify_client_secret",
]

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
_SCHEME = "sha256"
MAX_CLIENT_ID = 255
"""Longer ids are unknown without a lookup (no client id we issue comes near it)."""
ASSERTION_REPLAYED = "client_assertion jti replayed"
_UNKNOWN_CLIENT = "client-auth:?unknown"
"""The one bucket every unknown (or over-long) client id counts in: invented ids open none."""


class ClientAuthError(InvalidClient):
    """``invalid_client`` that remembers whether HTTP Basic was used (§5.2: 401 + challenge)."""

    def __init__(self, description: str, *, basic: bool, detail: str = "") -> None:
        super().__init__(description, detail=detail)
        self.basic = basic


def new_client_secret(random: TokenSource) -> str:
    return random.token(32)


def hash_client_secret(secret: str, *, salt: str) -> str:
    digest = hmac.new(salt.encode(), secret.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{_SCHEME}${salt}${digest}"


def verify_client_secret(secret: str, stored: str | None) -> bool:
    if stored is None:
        return False
    scheme, _, rest = stored.partition("$")
    salt, _, _digest = rest.partition("$")
    if scheme != _SCHEME or not salt:
        return False
    return constant_time_equals(hash_client_secret(secret, salt=salt), stored)


def _parse_basic(header: str) -> ClientCredentials:
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        raise ClientAuthError("unsupported Authorization scheme", basic=True)
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ClientAuthError("malformed Basic credentials", basic=True) from None
    raw_id, sep, raw_secret = decoded.partition(":")
    if not sep or not raw_id:
        raise ClientAuthError("malformed Basic credentials", basic=True)
    return ClientCredentials(
        client_id=unquote_plus(raw_id),
        client_secret=unquote_plus(raw_secret),
        method="client_secret_basic",
    )


def read_credentials(form: Mapping[str, str], authorization: str | None) -> ClientCredentials:
    """Which client is asking, and how it presented itself (not yet verified)."""
    assertion_type = form.get("client_assertion_type")
    methods = sum((authorization is not None, "client_secret" in form, assertion_type is not None))
    if methods > 1:
        raise InvalidRequest("use only one client authentication method")
    if authorization is not None:
        credentials = _parse_basic(authorization)
        if "client_id" in form and form["client_id"] != credentials.client_id:
            raise InvalidRequest("client_id does not match the Authorization header")
        return credentials
    if assertion_type is not None:
        return _read_assertion(form, assertion_type)
    client_id = form.get("client_id")
    if client_id is None:
        raise ClientAuthError("client authentication is required", basic=False)
    secret = form.get("client_secret")
    method = "none" if secret is None else "client_secret_post"
    return ClientCredentials(client_id=client_id, client_secret=secret, method=method)


def _read_assertion(form: Mapping[str, str], assertion_type: str) -> ClientCredentials:
    if assertion_type != ASSERTION_TYPE:
        raise ClientAuthError("unsupported client_assertion_type", basic=False)
    assertion = form.get("client_assertion")
    if assertion is None:
        raise InvalidRequest("missing parameter client_assertion")
    try:
        payload = assertion.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        client_id = claims["sub"]
    except (IndexError, ValueError, KeyError, TypeError):
        raise ClientAuthError("malformed client_assertion", basic=False) from None
    if not isinstance(client_id, str) or form.get("client_id", client_id) != client_id:
        raise ClientAuthError("client_assertion sub must be the client_id", basic=False)
    return ClientCredentials(
        client_id=client_id, client_secret=None, method="private_key_jwt", assertion=assertion
    )


async def authenticate_client(
    credentials: ClientCredentials, ctx: Context, *, address: str | None = None
) -> Client:
    """The verified client, or ``invalid_client`` (429 ``SlowDown`` after repeated failures)."""
    client_id = credentials.client_id
    client = await ctx.stores.clients.get(client_id) if len(client_id) <= MAX_CLIENT_ID else None
    reason = await _failure(credentials, client, ctx) if client else "unknown client"
    if reason is None and client is not None:
        return client
    key = f"client-auth:{client.client_id}" if client else _UNKNOWN_CLIENT
    limit = Limit(per_window=ctx.policy.client_auth_failures_per_minute)
    reservation = await ctx.stores.rate_limits.reserve(key, ctx.clock.now(), limit)
    _report(ctx, credentials, reason or "", granted=reservation.granted, address=address)
    if not reservation.granted:
        raise SlowDown(
            "too many failed authentications; retry later", retry_after=reservation.retry_after
        )
    basic = credentials.method == "client_secret_basic"
    raise ClientAuthError("client authentication failed", basic=basic, detail=reason or "")


def _report(
    ctx: Context, credentials: ClientCredentials, reason: str, *, granted: bool, address: str | None
) -> None:
    """One security event per failed authentication (the client id bounded: attacker input)."""
    outcome: Outcome = "refused" if granted else "throttled"
    if not granted:
        name = EventName.CLIENT_AUTH_THROTTLED
    elif reason == ASSERTION_REPLAYED:
        name = EventName.CLIENT_ASSERTION_REPLAYED
    else:
        name = EventName.CLIENT_AUTH_FAILED
    ctx.events.emit(
        Event(
            name=name,
            outcome=outcome,
            client_id=bounded(credentials.client_id),
            source=address,
            detail=reason,
            extra=(("method", credentials.method),),
        )
    )


async def _failure(credentials: ClientCredentials, client: Client, ctx: Context) -> str | None:
    """Why these credentials do not authenticate ``client`` (None when they do)."""
    if client.disabled_at is not None:
        return "client is disabled"
    if client.is_public:
        return None if credentials.method == "none" else "public clients do not use a secret"
    if credentials.method != client.token_endpoint_auth_method:
        # RFC 7591 §2: the registered method is the one the client uses; accepting another
        # (a secret in the body for a Basic client) widens what a leaked log line can replay.
        return f"client is registered for {client.token_endpoint_auth_method}"
    if credentials.method == "private_key_jwt":
        assert credentials.assertion is not None
        claims = await verify_client_assertion(credentials.assertion, client, ctx)
        if isinstance(claims, str):
            return claims
        key = f"client-assertion:{client.client_id}:{claims['jti']}"
        fresh = await ctx.stores.replay.first_use(key, int(claims["exp"]), ctx.clock.now())
        return None if fresh else ASSERTION_REPLAYED
    assert credentials.client_secret is not None  # both secret methods carry one (read_credentials)
    if verify_client_secret(credentials.client_secret, client.secret_hash):
        return None
    if _in_overlap(client, ctx.clock.now()) and verify_client_secret(
        credentials.client_secret, client.previous_secret_hash
    ):
        return None  # the secret a rotation replaced, within its overlap
    return "bad secret"


def _in_overlap(client: Client, now: int) -> bool:
    until = client.previous_secret_expires_at
    return client.previous_secret_hash is not None and until is not None and now < until
