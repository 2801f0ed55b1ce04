"""The six runs, each a real flow on the demo: the steps a person (or a CLI, or a machine) takes.

Browser flows run in an :class:`~tokenpath.lab.browser.ObservedPage`; the native flow runs the
project's own CLI client (:class:`~tokenpath.clients.native.NativeClient`) with the lab's browser
as the "system browser"; client credentials is the lab acting as a machine client over HTTP.
Each step waits for what a person would wait for; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from tokenpath.clients.native import NativeClient
from tokenpath.lab.browser import Chromium, ObservedPage
from tokenpath.lab.config import LabConfig
from tokenpath.lab.recording import Run, StoreSnapshot

__all__ = ["STEPS", "FlowContext"]

WAIT = 15.0
"""Seconds any one step may take before the run stops."""
WEBAPP_STORE = "web app session store (webapp_sessions)"


class FlowStopped(Exception):
    """The flow did not reach its end; the message says where (never a secret)."""


@dataclass
class FlowContext:
    config: LabConfig
    chromium: Chromium
    run: Run

    async def snapshot_webapp_store(self) -> None:
        """The web app's session rows as they are now (the tokens it keeps server-side)."""
        values = await asyncio.to_thread(_read_webapp_sessions, self.config)
        self.run.stores.append(StoreSnapshot(at=time.time(), client=WEBAPP_STORE, values=values))

    def held_by(self, client: str, values: dict[str, str | None]) -> None:
        kept = {k: v for k, v in values.items() if v}
        self.run.stores.append(StoreSnapshot(at=time.time(), client=client, values=kept))


def _read_webapp_sessions(config: LabConfig) -> dict[str, str]:
    if not config.webapp_database.exists():
        return {}
    uri = f"file:{config.webapp_database}?mode=ro"
    with sqlite3.connect(uri, uri=True) as db:
        try:
            rows = db.execute("SELECT * FROM webapp_sessions").fetchall()
        except sqlite3.Error:
            return {}
    return {f"row {i} col {j}": str(v) for i, row in enumerate(rows) for j, v in enumerate(row)}


async def _nothing() -> None:
    return None


async def sign_in(page: object, config: LabConfig) -> None:
    """At the authorization server: sign in, and allow if asked (consent may be remembered)."""
    p: Any = page
    await p.wait_for_selector("input[name=username]")
    await p.fill("input[name=username]", config.username)
    await p.fill("input[name=password]", config.password)
    await p.click("button[type=submit]")
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if not p.url.startswith(config.issuer):
            return
        approve = p.locator("button[value=approve]")
        if await approve.count():
            await approve.click()
            return
        await asyncio.sleep(0.05)
    raise FlowStopped("the authorization server did not let the user through")


async def _browser_flow(
    ctx: FlowContext,
    steps: Callable[[ObservedPage], Awaitable[None]],
    on_snapshot: Callable[[], Awaitable[None]] = _nothing,
) -> None:
    observed = await ObservedPage.open(ctx.chromium, ctx.run, on_snapshot)
    try:
        await steps(observed)
        await observed.final()
        await on_snapshot()
    finally:
        await observed.close()


async def _webapp_sign_in(ctx: FlowContext, observed: ObservedPage) -> None:
    page: Any = observed.page
    await page.goto(f"{ctx.config.webapp_url}/")
    await page.click("#login")
    await sign_in(page, ctx.config)
    await page.wait_for_selector("#user", timeout=WAIT * 1000)


async def code_flow(ctx: FlowContext) -> None:
    async def steps(observed: ObservedPage) -> None:
        await _webapp_sign_in(ctx, observed)

    await _browser_flow(ctx, steps, ctx.snapshot_webapp_store)


async def refresh_flow(ctx: FlowContext) -> None:
    async def steps(observed: ObservedPage) -> None:
        await _webapp_sign_in(ctx, observed)
        page: Any = observed.page
        await page.click("form[action='/refresh'] button")
        await page.wait_for_selector("#refreshes", timeout=WAIT * 1000)
        if (await page.text_content("#refreshes") or "").strip() in ("", "0"):
            raise FlowStopped("the web app did not renew its access token")

    await _browser_flow(ctx, steps, ctx.snapshot_webapp_store)


def _spa_flow(button: str) -> Callable[[FlowContext], Awaitable[None]]:
    async def flow(ctx: FlowContext) -> None:
        async def steps(observed: ObservedPage) -> None:
            page: Any = observed.page
            await page.goto(f"{ctx.config.spa_url}/")
            await page.click(button)
            await sign_in(page, ctx.config)
            await page.wait_for_function(
                "() => document.getElementById('api').textContent.length > 0"
                " || !document.getElementById('error').hidden",
                timeout=WAIT * 1000,
            )
            if not await page.is_hidden("#error"):
                raise FlowStopped(await page.text_content("#error") or "the browser app failed")

        await _browser_flow(ctx, steps)

    return flow


async def native_flow(ctx: FlowContext) -> None:
    """``tokenpath login``'s client, with the lab's browser as the system browser."""
    loop = asyncio.get_running_loop()
    client = NativeClient(ctx.config.issuer, ctx.config.native_client_id)

    async def steps(observed: ObservedPage) -> None:
        page: Any = observed.page

        def open_browser(url: str) -> None:
            asyncio.run_coroutine_threadsafe(page.goto(url), loop).result(WAIT)

        login = asyncio.create_task(
            asyncio.to_thread(client.login, open_browser=open_browser, timeout=WAIT)
        )
        try:
            await sign_in(page, ctx.config)
            result = await asyncio.wait_for(login, WAIT)
        finally:
            login.cancel()
        await page.wait_for_load_state()
        held = {"access_token": result.access_token, "refresh_token": result.refresh_token}
        ctx.held_by("CLI process memory", held)
        await asyncio.to_thread(
            client.call_api, f"{ctx.config.api_url}/api/me", result.access_token
        )
        ctx.held_by("CLI process memory", held)

    await _browser_flow(ctx, steps)


async def client_credentials_flow(ctx: FlowContext) -> None:
    """The lab as a machine client: its secret, its token, no user and no browser."""
    config = ctx.config
    async with httpx.AsyncClient(timeout=WAIT) as http:
        answer = await http.post(
            f"{config.issuer}/token",
            data={"grant_type": "client_credentials", "scope": "notes:read"},
            auth=(config.machine_client_id, config.machine_client_secret),
        )
        if answer.status_code != 200:
            raise FlowStopped(f"the token endpoint said {answer.json().get('error')}")
        token = str(answer.json()["access_token"])
        ctx.held_by("machine client process memory", {"access_token": token})
        called = await http.get(
            f"{config.api_url}/api/me", headers={"Authorization": f"Bearer {token}"}
        )
        if called.status_code != 200:
            raise FlowStopped(f"the API answered {called.status_code}")
        ctx.held_by("machine client process memory", {"access_token": token})


STEPS: dict[str, Callable[[FlowContext], Awaitable[None]]] = {
    "code": code_flow,
    "implicit": _spa_flow("#login-implicit"),
    "pkce": _spa_flow("#login-pkce"),
    "native": native_flow,
    "client_credentials": client_credentials_flow,
    "refresh": refresh_flow,
}
