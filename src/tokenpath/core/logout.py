"""Ending a browser session at the AS, and telling the clients that took part in it.

A user signs out at the authorization server, either on their own (the AS's "Sign out") or
because an application asked (OpenID Connect RP-Initiated Logout 1.0). Both end the same way, and
every client that received a grant in that session and registered a ``backchannel_logout_uri``
then gets a logout token (OpenID Connect Back-Channel Logout 1.0).

The logout request (RP-Initiated Logout 1.0 §2, §3), checked in this order:

1. Parameters are parsed once (duplicates are ``invalid_request``); ``id_token_hint`` may be
   longer than other parameters (:data:`MAX_HINT`), everything else is bounded by the policy.
2. ``id_token_hint`` must be an ID token this server signed (signature by an active key, JOSE
   ``typ`` ``JWT``, ``iss`` our issuer). An expired one is still a good hint (§2: the RP's session
   may have outlived the token). Its ``aud`` (or ``azp``) names the client.
3. ``client_id``, when sent with a hint, must name the same client (§2); a client named by either
   must be registered. A failure of 2 or 3 is an error page at the AS, never a redirect.
4. ``post_logout_redirect_uri`` is honoured only when the client is identified and the URI is
   one of its registered ``post_logout_redirect_uris``, compared exactly (§3, RFC 9700 §4.11.2:
   catalog A5.4). Otherwise the request is still a good logout request, but nobody is sent
   anywhere: the user ends on the AS's own "signed out" page.
5. ``state`` is echoed on the post-logout redirect; ``logout_hint`` and ``ui_locales`` are
   accepted and carried through the confirmation (this server speaks one language).

The session ends only after the user confirms (the web layer's CSRF-protected form, §2: the OP
SHOULD ask). Ending it (:func:`end_session`) deletes the session and returns one
:class:`LogoutDelivery` per client to notify; the web layer POSTs them in the background.

Back-Channel Logout ends the *clients'* sessions; it does not revoke tokens. Access and refresh
tokens issued in the session live on until they expire or are revoked (RFC 7009): an API does
not see browser sessions, and a client that wants its refresh token dead revokes it itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from tokenpath.core.context import Context
from tokenpath.core.errors import InvalidRequest, OAuthError
from tokenpath.core.messages import ErrorPage, Redirect
from tokenpath.core.params import parse_pairs
from tokenpath.core.records import Client, Session
from tokenpath.core.subjects import subject_for

__all__ = [
    "BACKCHANNEL_LOGOUT_EVENT",
    "ID_TOKEN_TYP",
    "LOGOUT_PARAMETERS",
    "LOGOUT_TOKEN_LIFETIME",
    "LOGOUT_TOKEN_TYP",
    "MAX_HINT",
    "LogoutDelivery",
    "LogoutRequest",
    "after_logout",
    "end_session",
    "logout_request",
    "logout_token_claims",
]

ID_TOKEN_TYP = "jwt"
"""The JOSE ``typ`` of our ID tokens (``JWT``; compared case-insensitively, RFC 7515 §4.1.9)."""
LOGOUT_TOKEN_TYP = "logout+jwt"
"""Back-Channel Logout 1.0 §2.4: explicit typing, so a logout token is never taken for an ID
token or an access token, and neither of those for a logout token."""
LOGOUT_TOKEN_LIFETIME = 120
"""Seconds a logout token is valid: long enough for three delivery attempts, short enough to
make a captured one worthless (§2.4 recommends at most two minutes)."""
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
MAX_HINT = 8192
"""Longest ``id_token_hint`` read: an ID token with profile claims outgrows other parameters."""
LOGOUT_PARAMETERS = (
    "id_token_hint",
    "logout_hint",
    "client_id",
    "post_logout_redirect_uri",
    "state",
    "ui_locales",
)
"""RP-Initiated Logout 1.0 §2; other parameters are ignored and not carried."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LogoutRequest:
    """A checked logout request: who asked, and where the browser may go afterwards."""

    client: Client | None
    """The client identified by ``id_token_hint`` or ``client_id``; None when anonymous."""
    post_logout_redirect_uri: str | None
    """Set only when it is registered for ``client`` (exact match): safe to redirect to."""
    redirect_refused: bool
    """A ``post_logout_redirect_uri`` was sent but will not be followed."""
    state: str | None
    hint_sub: str | None
    """``sub`` of the ID token hint (as the client sees the user)."""
    hint_sid: str | None
    parameters: tuple[tuple[str, str], ...]
    """The logout parameters as received, to carry through the confirmation form."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LogoutDelivery:
    """One logout token to POST to one client (Back-Channel Logout 1.0 §2.5)."""

    client_id: str
    uri: str
    logout_token: str


async def logout_request(
    pairs: Iterable[tuple[str, str]], *, ctx: Context
) -> LogoutRequest | ErrorPage:
    """Check a logout request (the steps in the module docstring); errors are pages."""
    try:
        return await _check(list(pairs), ctx)
    except OAuthError as error:
        return ErrorPage(error=error, status=error.status)


async def _check(pairs: list[tuple[str, str]], ctx: Context) -> LogoutRequest:
    params = parse_pairs(pairs, max_length=MAX_HINT)
    for name, value in params.items():
        if name != "id_token_hint" and len(value) > ctx.policy.max_param_length:
            raise InvalidRequest(f"parameter {name} is too long")
    claims: Mapping[str, Any] = {}
    client_id = params.get("client_id")
    if "id_token_hint" in params:
        claims = await _hint_claims(params["id_token_hint"], ctx)
        audience = _audience(claims)
        if client_id is not None and client_id != audience:
            raise InvalidRequest("client_id is not the audience of the id_token_hint")
        client_id = audience
    client = await ctx.stores.clients.get(client_id) if client_id is not None else None
    if client_id is not None and client is None:
        raise InvalidRequest("the client is not registered")
    uri = params.get("post_logout_redirect_uri")
    honoured = uri if client is not None and uri in client.post_logout_redirect_uris else None
    return LogoutRequest(
        client=client,
        post_logout_redirect_uri=honoured,
        redirect_refused=uri is not None and honoured is None,
        state=params.get("state"),
        hint_sub=_text(claims.get("sub")),
        hint_sid=_text(claims.get("sid")),
        parameters=tuple((n, params[n]) for n in LOGOUT_PARAMETERS if n in params),
    )


async def _hint_claims(hint: str, ctx: Context) -> Mapping[str, Any]:
    """Claims of an ID token we issued; expiry is deliberately not checked (§2)."""
    claims = await ctx.signer.verify(hint, typ=ID_TOKEN_TYP)
    if claims is None or claims.get("iss") != ctx.policy.issuer:
        raise InvalidRequest("id_token_hint is not an ID token issued by this server")
    return claims


def _audience(claims: Mapping[str, Any]) -> str:
    """The client an ID token was issued to: its single ``aud``, or ``azp`` (OIDC Core §2)."""
    aud, azp = claims.get("aud"), claims.get("azp")
    if isinstance(aud, str):
        return aud
    if isinstance(aud, list) and len(aud) == 1 and isinstance(aud[0], str):
        return aud[0]
    if isinstance(aud, list) and isinstance(azp, str) and azp in aud:
        return azp
    raise InvalidRequest("id_token_hint names no single client")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def after_logout(request: LogoutRequest) -> Redirect | None:
    """Where the browser goes once the session has ended (§3): the registered URI with
    ``state``, or nowhere (None: the AS's own "signed out" page)."""
    uri = request.post_logout_redirect_uri
    if uri is None:
        return None
    if request.state is None:
        return Redirect(location=uri)
    separator = "&" if "?" in uri else "?"
    return Redirect(location=f"{uri}{separator}{urlencode({'state': request.state})}")


async def end_session(session: Session | None, *, ctx: Context) -> tuple[LogoutDelivery, ...]:
    """Delete ``session`` and build a logout token for every client to notify (§2.5, §2.7).

    A client is notified once per session however many grants it received in it, and only if
    it registered a ``backchannel_logout_uri``.
    """
    if session is None:
        return ()
    await ctx.stores.sessions.delete(session.session_hash)
    if not session.sid:
        return ()
    deliveries: list[LogoutDelivery] = []
    notified: set[str] = set()
    for grant in await ctx.stores.grants.list_by_sid(session.sid):
        if grant.client_id in notified:
            continue
        notified.add(grant.client_id)
        client = await ctx.stores.clients.get(grant.client_id)
        if client is None or not client.backchannel_logout_uri:
            continue
        claims = logout_token_claims(client, grant.user_id or session.user_id, session.sid, ctx)
        token = await ctx.signer.sign(claims, typ=LOGOUT_TOKEN_TYP)
        deliveries.append(
            LogoutDelivery(
                client_id=client.client_id, uri=client.backchannel_logout_uri, logout_token=token
            )
        )
    return tuple(deliveries)


def logout_token_claims(client: Client, user_id: str, sid: str, ctx: Context) -> dict[str, Any]:
    """Back-Channel Logout 1.0 §2.4: ``iss``, ``aud``, ``iat``, ``exp``, ``jti``, ``sub``,
    ``sid`` and the ``events`` member; never a ``nonce`` (§2.6 refuses tokens that carry one)."""
    now = ctx.clock.now()
    return {
        "iss": ctx.policy.issuer,
        "aud": client.client_id,
        "iat": now,
        "exp": now + LOGOUT_TOKEN_LIFETIME,
        "jti": ctx.random.token(16),
        "sub": subject_for(user_id, client, ctx.policy),
        "sid": sid,
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
    }
