"""Attacks on tokens already issued: a stolen access token replayed (RFC 9700 §4.10.1), a
redeemed code replayed (§4.2.4), a stolen refresh token used (§4.14.2).

Each function plays both sides over HTTP and returns the outcome with the reason; the
authorization server and the demo API are the real ones.
"""

from __future__ import annotations

import httpx

from tokenpath.lab.attacks.dpop import DpopKey
from tokenpath.lab.attacks.flows import FlowError
from tokenpath.lab.attacks.report import AttackUnavailable, Outcome
from tokenpath.lab.attacks.run import ATTACKER, VICTIM_APP, VICTIM_BROWSER, Run

__all__ = ["code_replay", "refresh_token_theft", "token_replay"]


async def token_replay(run: Run, mode: str) -> tuple[Outcome, str]:
    target = run.target
    app = run.client(VICTIM_APP)
    dpop = None
    if mode == "dpop":
        meta = (await app.get(f"{target.issuer}/.well-known/oauth-authorization-server")).json()
        if not meta.get("dpop_signing_alg_values_supported"):
            raise AttackUnavailable(
                "this authorization server does not advertise "
                "dpop_signing_alg_values_supported (RFC 9449 §5.1): DPoP is not available yet"
            )
        dpop = DpopKey()
    run.step("Alice signs in to the CLI app (code + PKCE, loopback redirect).")
    redirect = run.native_redirect(target.lab_url)
    code = await run.alice(
        run.client(VICTIM_BROWSER), client_id=target.native_client_id, redirect_uri=redirect
    )
    tokens = await run.redeem(
        app, code, client_id=target.native_client_id, verifier=code.verifier, dpop=dpop
    )
    body = tokens.json()
    if "access_token" not in body:
        raise FlowError(f"the token request was refused: {body.get('error')}")
    token = body["access_token"]
    run.step(f"The app holds a {body.get('token_type', 'Bearer')} access token and uses it.")
    own = await run.api_me(app, token, dpop=dpop)
    if own.status_code != 200:
        raise FlowError(f"the app's own call was answered {own.status_code}")
    run.step("The token leaks (a log line, a proxy); the attacker calls the API from elsewhere.")
    attacker = run.client(ATTACKER)
    stolen = await run.api_me(attacker, token)
    if dpop is None:
        if stolen.status_code == 200:
            return "succeeded", (
                "A bearer token is the whole credential (RFC 6750 §1.2): the API answered the "
                f"attacker as subject {stolen.json().get('sub')}."
            )
        return "stopped", f"the API answered {stolen.status_code}"
    run.step("The attacker also signs a DPoP proof with a key of their own.")
    forged = await run.api_me(attacker, token, dpop=DpopKey())
    if stolen.status_code == 401 and forged.status_code == 401:
        return "stopped", (
            "The token is bound to the app's key (RFC 9449 cnf.jkt): alone, as Bearer, the API "
            f"refuses it ({_error_of(stolen)}); with a proof signed by the attacker's own key "
            f"too ({_error_of(forged)}): that key is not the bound one. The app, holding its "
            "key, was answered 200."
        )
    return "succeeded", f"the API answered {stolen.status_code} / {forged.status_code}"


def _error_of(response: httpx.Response) -> str:
    """The ``error`` of a refusal, as the API's JSON body names it."""
    try:
        return str(response.json().get("error"))
    except ValueError:
        return f"HTTP {response.status_code}"


async def code_replay(run: Run, mode: str) -> tuple[Outcome, str]:
    target = run.target
    backend = run.client(VICTIM_APP)
    run.step("Alice signs in to the web app; its back end redeems the code (PKCE + secret).")
    redirect = f"{target.webapp_url}/callback"
    code = await run.alice(
        run.client(VICTIM_BROWSER), client_id=target.webapp_client_id, redirect_uri=redirect
    )
    secret = target.webapp_client_secret
    first = await run.redeem(
        backend, code, client_id=target.webapp_client_id, secret=secret, verifier=code.verifier
    )
    issued = first.json()
    run.step("The attacker replays the very same token request (code, verifier, credentials).")
    replay = await run.redeem(
        run.client(ATTACKER),
        code,
        client_id=target.webapp_client_id,
        secret=secret,
        verifier=code.verifier,
    )
    run.step("The web app's tokens from the first redemption are checked again.")
    access_active = await run.active(issued["access_token"])
    refreshed = await run.refresh(
        backend, issued["refresh_token"], client_id=target.webapp_client_id, secret=secret
    )
    refused = replay.status_code == 400 and replay.json().get("error") == "invalid_grant"
    if refused and not access_active and refreshed.status_code == 400:
        return "stopped", (
            "A code is single use: the replay got invalid_grant, and the server revoked what the "
            "code had already issued (introspection says active: false, the refresh token is "
            "refused). A JWT access token still verifies at an API that does not introspect "
            "until it expires, which is why access tokens are short-lived."
        )
    return "succeeded", (
        f"replay answered {replay.status_code}; access token active: {access_active}; "
        f"refresh answered {refreshed.status_code}"
    )


async def refresh_token_theft(run: Run, mode: str) -> tuple[Outcome, str]:
    target = run.target
    app, attacker = run.client(VICTIM_APP), run.client(ATTACKER)
    client_id = target.native_client_id
    run.step("Alice signs in to the CLI app (a public client with a refresh token).")
    redirect = run.native_redirect(target.lab_url)
    code = await run.alice(run.client(VICTIM_BROWSER), client_id=client_id, redirect_uri=redirect)
    issued = (await run.redeem(app, code, client_id=client_id, verifier=code.verifier)).json()
    stolen = issued["refresh_token"]
    run.step("The attacker steals the refresh token.")
    if mode == "attacker-first":
        run.step("The attacker refreshes first and gets a new pair; then the app refreshes.")
        theirs = await run.refresh(attacker, stolen, client_id=client_id)
        victim = await run.refresh(app, stolen, client_id=client_id)
        later = theirs.json().get("refresh_token", "") if theirs.status_code == 200 else ""
    else:
        run.step("The app refreshes first (rotation); then the attacker uses the stolen one.")
        victim = await run.refresh(app, stolen, client_id=client_id)
        theirs = await run.refresh(attacker, stolen, client_id=client_id)
        later = victim.json().get("refresh_token", "") if victim.status_code == 200 else ""
    run.step("Whoever holds the newest refresh token tries it once more.")
    newest = attacker if mode == "attacker-first" else app
    after = await run.refresh(newest, later, client_id=client_id)
    reuse = victim if mode == "attacker-first" else theirs
    if reuse.status_code == 400 and after.status_code == 400:
        return "stopped", (
            "Refresh tokens rotate: the second use of one is reuse, so the server revoked the "
            "whole family (RFC 9700 §4.14.2); the newest refresh token, the attacker's or the "
            "victim's, no longer works, and the victim signs in again."
        )
    return "succeeded", f"the newest refresh token still works ({after.status_code})"
