"""The how-to pages show the samples exactly as the sample tests run them."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.mark.parametrize("framework", ["fastapi", "flask", "django", "starlette"])
def test_each_how_to_shows_its_tested_sample_verbatim(framework: str) -> None:
    sample = (ROOT / "examples" / "resource_server" / f"{framework}_notes.py").read_text()
    page = (ROOT / "docs" / "howto" / f"resource-server-{framework}.md").read_text()
    assert f"```python\n{sample}```" in page


def test_the_index_links_every_framework_page() -> None:
    page = (ROOT / "docs" / "howto" / "resource-server.md").read_text()
    for framework in ("fastapi", "flask", "django", "starlette"):
        assert f"(resource-server-{framework}.md)" in page
