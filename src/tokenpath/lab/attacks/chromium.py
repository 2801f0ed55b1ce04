"""Headless Chromium for the attacks only a browser can show (fragments, history, Referer).

The system Chromium (``/usr/bin/chromium``, or ``chromium`` on the PATH) is driven by
Playwright; without either, such a mode is :class:`~tokenpath.lab.attacks.report.AttackUnavailable`
with the reason. Every response the page receives is written to the run's journal, and every
main-frame navigation (the history entries) is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokenpath.lab.attacks.report import AttackUnavailable, Journal, relevant_headers

__all__ = ["BrowserPage", "chromium_page", "sign_in"]

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000


def _executable() -> str:
    found = (shutil.which(name) for name in ("chromium", "chromium-browser"))
    for candidate in ("/usr/bin/chromium", *found):
        if candidate and Path(candidate).exists():
            return candidate
    raise AttackUnavailable("this mode needs Chromium (Debian: apt-get install chromium)")


@dataclass
class BrowserPage:
    page: Any
    navigations: list[str] = field(default_factory=list)
    """Every URL the main frame committed: the tab's history entries, in order."""

    async def wait_until(self, script: str) -> None:
        """Wait for ``script`` to be true, across the page's own navigations (bounded)."""
        for _ in range(5):
            try:
                await self.page.wait_for_function(script, timeout=TIMEOUT_MS)
                return
            except Exception as error:  # a navigation destroyed the context: wait again
                if "destroyed" not in str(error) and "navigat" not in str(error):
                    raise
                await asyncio.sleep(0.2)
        raise TimeoutError(script)


@contextlib.asynccontextmanager
async def chromium_page(journal: Journal, actor: str) -> AsyncIterator[BrowserPage]:
    executable = _executable()
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        raise AttackUnavailable("this mode needs Playwright (pip install playwright)") from None
    pending: list[asyncio.Task[None]] = []

    async def log(response: Any) -> None:
        with contextlib.suppress(Exception):  # the page may be gone already
            request = response.request
            sent, received = await request.all_headers(), await response.all_headers()
            journal.record(
                actor,
                request.method,
                request.url,
                response.status,
                relevant_headers(sent.items(), received.items()),
            )

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=ARGS
        )
        try:
            context = await browser.new_context()
            page = await context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            opened = BrowserPage(page)

            def navigated(frame: Any) -> None:
                if frame == page.main_frame:
                    opened.navigations.append(frame.url)

            page.on("framenavigated", navigated)
            page.on("response", lambda r: pending.append(asyncio.ensure_future(log(r))))
            yield opened
            await asyncio.gather(*pending)
        finally:
            await browser.close()


async def sign_in(opened: BrowserPage, username: str, password: str, landed: str) -> None:
    """On the authorization server's pages: sign in, and allow if consent is asked; returns
    once ``landed`` (a CSS selector of the page the redirect leads to) is there."""
    page = opened.page
    await page.wait_for_selector("input[name=username]")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    await page.wait_for_selector(f"button[value=approve], {landed}", state="attached")
    if await page.locator("button[value=approve]").count():
        await page.click("button[value=approve]")
        await page.wait_for_selector(landed, state="attached")
