"""The advisor's page on a real server: the questions, a recommendation with its sections and
the lab link, and the JSON answer."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from tests.support.servers import serve_asgi
from tokenpath.lab import advisor_pages
from tokenpath.lab.advisor import QUESTIONS


@pytest.fixture(scope="module")
def lab() -> Iterator[str]:
    app = Starlette(routes=[Mount("/advisor", routes=advisor_pages.routes())])
    with serve_asgi(app) as url:
        yield url


def test_the_form_asks_every_question(lab: str) -> None:
    page = httpx.get(f"{lab}/advisor/")
    assert page.status_code == 200
    for question in QUESTIONS:
        assert question.text in page.text
        assert f'name="{question.field}" value="yes"' in page.text
    assert 'id="recommendation"' not in page.text


def test_answers_give_a_recommendation_with_its_lab_run(lab: str) -> None:
    page = httpx.get(f"{lab}/advisor/", params={"browser": "yes", "long_lived": "yes"})
    assert 'data-flow="code-pkce"' in page.text
    assert 'href="/runs/new?flow=code-pkce"' in page.text
    assert 'href="/runs/new?flow=refresh"' in page.text
    assert "RFC 9700 §2.1.2" in page.text


def test_the_json_answer_matches_the_page(lab: str) -> None:
    body = httpx.get(f"{lab}/advisor/api", params={"machine": "yes"}).json()
    assert body["flow"] == "client-credentials"
    assert body["lab_run"] == "/runs/new?flow=client-credentials"
