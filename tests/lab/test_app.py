"""The lab's pages in Chromium: they render without console errors, carry the lab-only label,
and the screenshots and diagrams the README shows are made here (docs/images/lab/)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.lab.conftest import CHROMIUM, Demo

pytestmark = pytest.mark.browser

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images" / "lab"


@pytest.fixture(scope="module")
def page(demo: Demo) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(60_000)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.console_errors = errors
        try:
            yield page
        finally:
            browser.close()


def _no_console_errors(page: Any) -> None:
    assert page.console_errors == []


def test_runs_start_from_the_lab_page(page: Any, demo: Demo) -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.goto(demo.lab)
    assert "deliberately vulnerable" in page.text_content("#lab-only")
    page.click("#run-code")
    page.wait_for_selector("#exposures")
    assert page.text_content("#outcome") == "ok"
    code_svg = httpx.get(page.url + ".svg").text
    page.screenshot(path=str(IMAGES / "run-code.png"), full_page=True)
    page.goto(demo.lab)
    page.click("#run-implicit")
    page.wait_for_selector("#exposures")
    rows = page.locator("#exposures tr[data-place=address-bar-fragment]")
    assert rows.count() >= 1
    implicit_svg = httpx.get(page.url + ".svg").text
    page.screenshot(path=str(IMAGES / "run-implicit.png"), full_page=True)
    (IMAGES / "code-flow.svg").write_text(code_svg, encoding="utf-8")
    (IMAGES / "implicit-flow.svg").write_text(implicit_svg, encoding="utf-8")
    _no_console_errors(page)


def test_compare_page_highlights_the_differences(page: Any, demo: Demo) -> None:
    page.goto(f"{demo.lab}/compare")
    page.wait_for_selector("#comparison")
    differing = page.locator("#comparison tr.differs[data-secret=access_token]")
    assert differing.count() >= 4  # fragment, history, js-memory vs token-response, store
    page.screenshot(path=str(IMAGES / "compare.png"), full_page=True)
    page.goto(demo.lab)
    assert page.locator("#runs tbody tr").count() >= 2
    page.screenshot(path=str(IMAGES / "lab.png"), full_page=False)
    _no_console_errors(page)


def test_a_foreign_origin_cannot_start_a_run(demo: Demo) -> None:
    refused = httpx.post(
        f"{demo.lab}/runs", data={"flow": "code"}, headers={"Origin": "http://127.0.0.1:1"}
    )
    assert refused.status_code == 403
    cross = httpx.post(
        f"{demo.lab}/runs", data={"flow": "code"}, headers={"Sec-Fetch-Site": "same-site"}
    )
    assert cross.status_code == 403
    assert httpx.post(f"{demo.lab}/runs", data={"flow": "nope"}).status_code == 400
    assert httpx.get(f"{demo.lab}/runs/unknown").status_code == 404
