"""The lab's browser: the system Chromium driven by Playwright, with the lab script injected.

Every browser run gets a fresh browser context (no cookies, no storage) and one page. The lab
script (``probe.js``) reports to :meth:`ObservedPage._report`, which adds a
:class:`~tokenpath.lab.recording.BrowserSnapshot` with what the script saw plus what the browser
itself knows and no page script can read: the tab's session history (DevTools
``Page.getNavigationHistory``) and the cookie jar. Web Storage of an origin the page has left is
carried forward, because it is still in the browser.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tokenpath.lab.recording import BrowserSnapshot, Run

__all__ = ["INSTALL_HINT", "Chromium", "LabUnavailable", "ObservedPage", "find_chromium"]

INSTALL_HINT = (
    "The flow lab drives the system Chromium with Playwright. Install both:\n"
    "  apt install chromium            (Debian/Ubuntu; the lab looks for /usr/bin/chromium)\n"
    "  pip install 'tokenpath[lab]'    (the playwright package; never `playwright install`)"
)
PROBE = (Path(__file__).parent / "probe.js").read_text(encoding="utf-8")
_LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class LabUnavailable(Exception):
    """No Chromium or no Playwright: the message says what to install."""


def find_chromium(explicit: str | None = None) -> str | None:
    """``explicit`` if it exists (and nothing else when it is given), else /usr/bin/chromium,
    else ``chromium`` on the PATH."""
    if explicit is not None:
        return explicit if Path(explicit).exists() else None
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


class Chromium:
    """One headless Chromium for the lab's lifetime, launched on first use."""

    def __init__(self, executable: str | None) -> None:
        self.executable = executable
        self._lock = asyncio.Lock()
        self._playwright: Any = None
        self._browser: Any = None

    async def browser(self) -> Any:
        async with self._lock:
            if self._browser is None:
                self._browser = await self._launch()
            return self._browser

    async def _launch(self) -> Any:
        if self.executable is None:
            raise LabUnavailable(INSTALL_HINT)
        try:
            from playwright.async_api import async_playwright
        except ImportError as missing:
            raise LabUnavailable(INSTALL_HINT) from missing
        self._playwright = await async_playwright().start()
        return await self._playwright.chromium.launch(
            executable_path=self.executable, headless=True, args=_LAUNCH_ARGS
        )

    async def close(self) -> None:
        async with self._lock:
            if self._browser is not None:
                await self._browser.close()
                self._browser = None
            if self._playwright is not None:
                await self._playwright.stop()
                self._playwright = None


class ObservedPage:
    """A page whose every document runs the lab script; snapshots go into ``run.browser``."""

    def __init__(
        self, run: Run, context: Any, page: Any, on_snapshot: Callable[[], Awaitable[None]]
    ) -> None:
        self.run = run
        self.context = context
        self.page = page
        self._cdp: Any = None
        self._on_snapshot = on_snapshot
        self._storage: dict[str, dict[str, str]] = {}

    @classmethod
    async def open(
        cls, chromium: Chromium, run: Run, on_snapshot: Callable[[], Awaitable[None]]
    ) -> ObservedPage:
        browser = await chromium.browser()
        context = await browser.new_context()
        observed = cls(run, context, await context.new_page(), on_snapshot)
        observed.page.set_default_timeout(15_000)
        await context.expose_binding("__tokenpathLab", observed._report)
        await context.add_init_script(script=PROBE)
        observed._cdp = await context.new_cdp_session(observed.page)
        return observed

    async def _history(self, current: str) -> list[str]:
        """The tab's entries; the current one is the reported address (DevTools answers a
        moment later, when the page may already have replaced it)."""
        try:
            answer = await self._cdp.send("Page.getNavigationHistory")
        except Exception:  # the page is closing
            return [current]
        entries = [str(entry["url"]) for entry in answer.get("entries", [])]
        index = int(answer.get("currentIndex", len(entries) - 1))
        if 0 <= index < len(entries):
            entries[index] = current
        return entries

    async def _cookies(self) -> dict[str, str]:
        jar = await self.context.cookies()
        return {f"cookie jar {c['domain']}:{c['name']}": str(c["value"]) for c in jar}

    async def _report(self, source: Any, seen: dict[str, Any]) -> None:
        url = str(seen.get("url", ""))
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
        self._storage[origin] = {str(k): str(v) for k, v in dict(seen.get("storage", {})).items()}
        storage = {k: v for kept in self._storage.values() for k, v in kept.items()}
        storage |= await self._cookies()
        self.run.browser.append(
            BrowserSnapshot(
                at=time.time(),
                event=str(seen.get("event", "")),
                url=url,
                history=await self._history(url),
                js={str(k): str(v) for k, v in dict(seen.get("js", {})).items()},
                storage=storage,
            )
        )
        await self._on_snapshot()

    async def final(self) -> None:
        """One last report at the end of the run (the page may hold more than at its last)."""
        try:
            await self.page.evaluate(
                "() => window.__tokenpathLabFinal && window.__tokenpathLabFinal()"
            )
            await asyncio.sleep(0.15)
        except Exception:  # the page navigated away or closed: its last report stands
            return

    async def close(self) -> None:
        await self.context.close()
