"""The playground's pages over HTTP: every attack listed, runs started only from the lab's
origin, reports shown, the vulnerable clients labelled on every page, and no console error in
Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tokenpath.lab.attacks import ATTACKS, AttackTarget

LABEL = "Deliberately vulnerable (lab only)"
INSECURE_PAGES = (
    "/insecure/naive/",
    "/insecure/checked/",
    "/insecure/leaky/",
    "/insecure/no-state/",
    "/insecure/no-state-pkce/",
)


def test_the_index_lists_every_attack_with_its_section(lab_target: AttackTarget) -> None:
    page = httpx.get(lab_target.lab_path("/"))
    assert page.status_code == 200
    for attack in ATTACKS:
        assert f'href="/attacks/{attack.id}"' in page.text
        assert f"RFC 9700 {attack.rfc9700}" in page.text


@pytest.mark.parametrize("path", INSECURE_PAGES)
def test_every_vulnerable_page_says_so(lab_target: AttackTarget, path: str) -> None:
    page = httpx.get(lab_target.lab_path(path))
    assert page.status_code == 200
    assert LABEL in page.text


def test_the_careless_page_is_the_only_one_with_a_permissive_referrer_policy(
    lab_target: AttackTarget,
) -> None:
    leaky = httpx.get(lab_target.lab_path("/insecure/leaky/"))
    assert leaky.headers["referrer-policy"] == "unsafe-url"
    naive = httpx.get(lab_target.lab_path("/insecure/naive/"))
    assert naive.headers["referrer-policy"] == "no-referrer"


def test_a_run_from_the_lab_page_shows_the_report(lab_target: AttackTarget) -> None:
    origin = {"Origin": lab_target.lab_url}
    page = httpx.post(lab_target.lab_path("/code-replay/replay"), headers=origin, timeout=60)
    assert page.status_code == 200
    assert 'data-outcome="stopped"' in page.text and "invalid_grant" in page.text
    answer = httpx.post(
        lab_target.lab_path("/api/redirect-uri-tampering/tamper"), headers=origin, timeout=60
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["outcome"] == "stopped" and body["rfc9700"] == "§4.1.3"
    assert {"actor", "method", "url", "status", "headers"} <= set(body["requests"][0])


def test_runs_are_refused_from_another_origin_or_for_unknown_attacks(
    lab_target: AttackTarget,
) -> None:
    foreign = {"Origin": lab_target.attacker_url}
    refused = httpx.post(lab_target.lab_path("/api/code-replay/replay"), headers=foreign)
    assert refused.status_code == 403
    cross_site = {"Sec-Fetch-Site": "same-site", "Origin": "null"}
    refused = httpx.post(lab_target.lab_path("/api/code-replay/replay"), headers=cross_site)
    assert refused.status_code == 403
    unknown = httpx.post(lab_target.lab_path("/api/nothing/here"))
    assert unknown.status_code == 404
    assert httpx.get(lab_target.lab_path("/nothing")).status_code == 404


def test_the_dpop_mode_runs_from_the_page_and_is_stopped(lab_target: AttackTarget) -> None:
    """The server advertises DPoP, so the mode is no longer unavailable (409): it runs."""
    answer = httpx.post(lab_target.lab_path("/api/token-replay/dpop"), timeout=60)
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "stopped"


def test_the_attacker_page_sends_browsers_only_into_the_lab(lab_target: AttackTarget) -> None:
    away = httpx.get(f"{lab_target.attacker_url}/csrf", params={"to": "https://example.com/"})
    assert away.status_code == 400 and "refresh" not in away.headers
    inside = httpx.get(
        f"{lab_target.attacker_url}/csrf", params={"to": f"{lab_target.lab_url}/attacks/"}
    )
    assert inside.headers["refresh"] == f"0; url={lab_target.lab_url}/attacks/"


@pytest.fixture
def console(browser: Any) -> Iterator[tuple[Any, list[str]]]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []

    def seen(message: Any) -> None:  # the test lab app serves no favicon; the real lab does
        if message.type == "error" and "favicon" not in message.location.get("url", ""):
            errors.append(message.text)

    page.on("console", seen)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield page, errors
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize(
    "path", ["/", "/token-injection", *INSECURE_PAGES], ids=lambda p: p.strip("/") or "index"
)
def test_pages_render_without_console_errors(
    lab_target: AttackTarget, console: tuple[Any, list[str]], path: str
) -> None:
    page, errors = console
    page.goto(lab_target.lab_path(path))
    page.wait_for_load_state("networkidle")
    assert page.title()
    assert errors == []


IMAGES = Path(__file__).resolve().parents[3] / "docs" / "images" / "lab"


@pytest.mark.browser
def test_a_person_runs_an_attack_from_the_page(
    lab_target: AttackTarget, console: tuple[Any, list[str]]
) -> None:
    """Click a mode's button in Chromium: the report shows the outcome (screenshots for the
    docs are taken here, under docs/images/lab/)."""
    page, errors = console
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto(lab_target.lab_path("/"))
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / "attacks.png"), full_page=False)
    page.click("#attack-redirect-csrf a")
    page.click("button[value=no-state]")
    page.wait_for_selector("#report", timeout=60_000)
    assert page.get_attribute("#report", "data-outcome") == "succeeded"
    page.screenshot(path=str(IMAGES / "attack-report.png"), full_page=False)
    page.goto(lab_target.lab_path("/redirect-csrf"))
    page.click("button[value=state]")
    page.wait_for_selector("#report", timeout=60_000)
    assert page.get_attribute("#report", "data-outcome") == "stopped"
    assert errors == []
