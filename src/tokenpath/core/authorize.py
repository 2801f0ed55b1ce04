"""The authorization endpoint (RFC 6749 §4.1-4.2): the interactive steps after validation.

:func:`~tokenpath.core.authorization_request.validate` decides whether the request stands and
where an error may go; this module turns its answer into a decision for ``/authorize``:

1. A rejection before the client and redirect URI are trusted is an :class:`ErrorPage` at the
   AS, never a redirect (RFC 9700 §4.11.2); a later one goes back to the client's redirect URI
   with ``error``, ``error_description``, ``state`` and ``iss`` (RFC 9207) in the response mode.
   For a client registered over HTTP (``Client.dynamic``: nobody vouched for its redirect URI)
   and a user not yet signed in, that error waits behind an :class:`Interstitial` the user
   confirms (RFC 9700 §4.11.2, catalog A16); operator-registered clients are redirected at once.
2. Then login, consent (remembered per user, client and scopes) and issuing the code or, for
   the implicit grant, the token (RFC 6749 §4.1.2, §4.2.2) and the ID token (OIDC Core §3.2.2.5).
3. Sign-in is asked for when there is no session, when ``prompt=login`` (OIDC Core §3.1.2.1),
   or when the session's ``auth_time`` is more than ``max_age`` seconds ago; with ``prompt=none``
   each of these is ``login_required`` instead (§3.1.2.6). The sign-in page resumes the request
   without ``prompt=login`` and ``max_age``: the fresh sign-in has satisfied them, and keeping
   them would ask again forever. The ID token's ``auth_time`` tells the client when it happened.
4. A pushed request (RFC 9126) goes from sign-in to consent to the code under a fresh
   single-use ``request_uri`` at each step (``core/pushed_requests.py``), never as parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal
from urllib.parse import urlsplit

from tokenpath.core.authorization_request import Rejection, ValidatedRequest, validate
from tokenpath.core.claims import claims_for
from tokenpath.core.clock import hash_token
from tokenpath.core.context import Context
from tokenpath.core.errors import AccessDenied, ConsentRequired, LoginRequired, OAuthError
from tokenpath.core.id_tokens import issue_id_token
from tokenpath.core.issuance import issue_access_token
from tokenpath.core.messages import (
    ConsentPrompt,
    Decision,
    ErrorPage,
    FormPost,
    Interstitial,
    LoginPrompt,
    Redirect,
)
from tokenpath.core.params import format_scope
from tokenpath.core.pushed_requests import next_step
from tokenpath.core.records import AuthorizationCode, Grant, GrantType, ResponseType, Session
from tokenpath.core.resources import Target, token_scope
from tokenpath.core.response_modes import ResponseMode, deliver
from tokenpath.core.response_types import response_type_spec

__all__ = ["ConsentAnswer", "authorize", "reject"]

ConsentAnswer = Literal["approve", "deny"]


def reject(rejection: Rejection, ctx: Context, *, hold: bool = False) -> Decision:
    """``/authorize``'s answer to a rejection: an error page, or the error sent to the client;
    ``hold`` puts an interstitial before that error (see :func:`_held`)."""
    target = rejection.reply_to
    if target is None:
        return ErrorPage(error=rejection.error, status=400)
    fields = list(rejection.error.to_dict().items())
    sent = _send(target.redirect_uri, target.response_mode, target.state, fields, ctx)
    if not hold:
        return sent
    host = urlsplit(target.redirect_uri).netloc or target.redirect_uri
    return Interstitial(error=rejection.error, host=host, proceed=sent)


async def _held(
    rejection: Rejection, pairs: Sequence[tuple[str, str]], session: Session | None, ctx: Context
) -> bool:
    """A trusted-stage error for a ``dynamic`` client before anyone signed in (catalog A16).

    Its ``client_id`` was found and checked unique by validation, so reading it again is safe.
    """
    if rejection.reply_to is None or session is not None:
        return False
    client_id = next((value for name, value in pairs if name == "client_id"), "")
    client = await ctx.stores.clients.get(client_id)
    return client is not None and client.dynamic


def _send(
    redirect_uri: str,
    mode: ResponseMode,
    state: str | None,
    fields: list[tuple[str, str]],
    ctx: Context,
) -> Redirect | FormPost:
    """RFC 6749 §4.1.2: ``state`` echoed when sent; RFC 9207 §2: ``iss`` on every response."""
    if state is not None:
        fields.append(("state", state))
    fields.append(("iss", ctx.policy.issuer))
    return deliver(redirect_uri, mode, fields)


def _reply(request: ValidatedRequest, ctx: Context, fields: list[tuple[str, str]]) -> Decision:
    return _send(request.redirect_uri, request.response_mode, request.state, fields, ctx)


def _fail(request: ValidatedRequest, ctx: Context, error: OAuthError) -> Decision:
    return _reply(request, ctx, list(error.to_dict().items()))


async def authorize(
    pairs: Sequence[tuple[str, str]],
    *,
    ctx: Context,
    session: Session | None,
    consent: ConsentAnswer | None = None,
) -> Decision:
    """Decide one authorization request; ``consent`` is the user's answer on the consent form."""
    request = await validate(pairs, ctx)
    if isinstance(request, Rejection):
        return reject(request, ctx, hold=await _held(request, pairs, session, ctx))
    if session is None or _needs_sign_in(request, session, ctx.clock.now()):
        if "none" in request.prompt:
            reason = "the user is not signed in" if session is None else "sign-in is too old"
            return _fail(request, ctx, LoginRequired(reason))
        resume = await next_step(request, _resumed(request.pushed or pairs), ctx)
        return LoginPrompt(client=request.client, login_hint=request.login_hint, resume=resume)
    if consent == "deny":
        return _fail(request, ctx, AccessDenied("the user denied the request"))
    consents = ctx.stores.consents
    if consent == "approve":
        await consents.add(
            session.user_id, request.client.client_id, frozenset(request.scopes), ctx.clock.now()
        )
    else:
        approved = await consents.get(session.user_id, request.client.client_id)
        if "consent" in request.prompt or not set(request.scopes) <= approved:
            if "none" in request.prompt:
                return _fail(
                    request, ctx, ConsentRequired("the user has not approved these scopes")
                )
            host = urlsplit(request.redirect_uri).netloc or request.redirect_uri
            return ConsentPrompt(
                client=request.client,
                scopes=request.scopes,
                redirect_host=host,
                resume=await next_step(request, request.pushed or pairs, ctx),
                apis=request.apis,
            )
    return await _issue(request, session, ctx)


def _needs_sign_in(request: ValidatedRequest, session: Session, now: int) -> bool:
    """OIDC Core §3.1.2.1: ``prompt=login``, or a sign-in older than ``max_age`` seconds."""
    too_old = request.max_age is not None and now - session.auth_time > request.max_age
    return "login" in request.prompt or too_old


def _resumed(pairs: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The request to continue with after a fresh sign-in: without what asked for it.

    ``select_account`` goes too: with ``login`` it was already dropped (the sign-in is the
    choice); without it, validation refused the request before anyone was asked to sign in.
    """
    resumed = []
    for name, value in pairs:
        if name == "prompt":
            kept = [p for p in value.split(" ") if p not in ("login", "select_account")]
            if kept:
                resumed.append((name, " ".join(kept)))
        elif name != "max_age":
            resumed.append((name, value))
    return tuple(resumed)


async def _issue(request: ValidatedRequest, session: Session, ctx: Context) -> Decision:
    now = ctx.clock.now()
    grant = Grant(
        grant_id=ctx.random.token(16),
        client_id=request.client.client_id,
        user_id=session.user_id,
        scope=request.scopes,
        created_at=now,
        auth_time=session.auth_time,
        sid=session.sid or None,
        resources=tuple(api.identifier for api in request.apis),
    )
    await ctx.stores.grants.add(grant)
    if request.response_type is not ResponseType.CODE:
        return await _issue_implicit(request, grant, session, ctx)
    code = ctx.random.token(32)
    await ctx.stores.codes.add(
        AuthorizationCode(
            code_hash=hash_token(code),
            grant_id=grant.grant_id,
            client_id=request.client.client_id,
            user_id=session.user_id,
            redirect_uri=request.redirect_uri,
            redirect_uri_in_request=request.redirect_uri_in_request,
            scope=request.scopes,
            code_challenge=request.code_challenge,
            code_challenge_method=request.code_challenge_method,
            nonce=request.nonce,
            auth_time=session.auth_time,
            sid=session.sid or None,
            dpop_jkt=request.dpop_jkt,
            issued_at=now,
            expires_at=now + ctx.policy.code_lifetime,
        )
    )
    return _reply(request, ctx, [("code", code)])


async def _issue_implicit(
    request: ValidatedRequest, grant: Grant, session: Session, ctx: Context
) -> Decision:
    """RFC 6749 §4.2.2: the token itself in the fragment, never a refresh token; OIDC Core
    §3.2.2.5: the ID token too, with ``at_hash`` when an access token comes with it, and the
    user's claims for the granted scopes when none does (§5.4: nothing to call userinfo with)."""
    spec = response_type_spec(request.response_type)
    returns = spec.returns if spec is not None else ()
    fields: list[tuple[str, str]] = []
    access_token = None
    if "access_token" in returns:
        api = request.apis[0] if request.apis else None  # RFC 8707: one audience per token
        target = Target(api=api, scope=token_scope(None, grant.scope, api))
        lifetime = ctx.policy.implicit_access_token_lifetime
        issued = await issue_access_token(
            ctx,
            grant_id=grant.grant_id,
            client_id=grant.client_id,
            subject=session.user_id,
            scope=target.scope,
            grant_type=GrantType.IMPLICIT,
            lifetime=min(lifetime, target.lifetime(lifetime)),
            auth_time=grant.auth_time,
            opaque=target.opaque(request.client),
            api=api,
        )
        access_token = issued.token
        fields += [
            ("access_token", issued.token),
            ("token_type", "Bearer"),
            ("expires_in", str(issued.expires_in)),
            ("scope", format_scope(target.scope)),
        ]
    if "id_token" in returns:
        user = await ctx.stores.users.get(session.user_id) if access_token is None else None
        id_token = await issue_id_token(
            ctx,
            client=request.client,
            user_id=session.user_id,
            auth_time=session.auth_time,
            nonce=request.nonce,
            sid=grant.sid,
            access_token=access_token,
            user_claims=claims_for(user, grant.scope) if user is not None else None,
        )
        fields.append(("id_token", id_token))
    return _reply(request, ctx, fields)
