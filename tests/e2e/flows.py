"""Steps a person takes in the browser, shared by the Chromium tests."""

from __future__ import annotations

import contextlib
from typing import Any

from tests.e2e.conftest import PASSWORD


def sign_in_and_allow(page: Any, username: str = "alice") -> None:
    """On the authorization server's login page: sign in, then allow on the consent page."""
    page.wait_for_selector("input[name=username]")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("button[value=approve]")
    page.click("button[value=approve]")


def record_navigation(page: Any) -> dict[str, list[str]]:
    """Every request URL, every committed main-frame URL (= history entries) and page HTML."""
    seen: dict[str, list[str]] = {"requests": [], "navigations": [], "html": []}
    page.on("request", lambda request: seen["requests"].append(request.url))

    def navigated(frame: Any) -> None:
        if frame == page.main_frame:
            seen["navigations"].append(frame.url)

    page.on("framenavigated", navigated)

    def loaded(_: Any) -> None:
        with contextlib.suppress(Exception):  # the page may already be navigating away
            seen["html"].append(page.content())

    page.on("load", loaded)
    return seen


def storage_of(page: Any, origin: str) -> str:
    """localStorage and sessionStorage of ``origin``, read from a page of that origin."""
    page.goto(origin)
    dump: str = page.evaluate(
        "() => JSON.stringify({local: {...localStorage}, session: {...sessionStorage}})"
    )
    return dump
