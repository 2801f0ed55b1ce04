"""``tokenpath compare`` as a user runs it: a subprocess, its own demo, the system Chromium."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_service

CHROMIUM = "/usr/bin/chromium"


def _tokenpath(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tokenpath", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TOKENPATH_DATA_DIR": "/nonexistent-never-used"},
    )


@pytest.mark.browser
def test_compare_json_shows_the_token_in_the_browser_only_with_implicit() -> None:
    if not Path(CHROMIUM).exists():
        require_service(f"Debian chromium not found at {CHROMIUM} (apt-get install chromium)")
    done = _tokenpath("compare", "--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert set(answer) == {"runs"}
    assert [run["flow"] for run in answer["runs"]] == ["code", "implicit"]
    for run in answer["runs"]:
        assert set(run) == {"flow", "exposures"}
        for row in run["exposures"]:
            assert set(row) == {"secret", "place", "seconds"}
            assert isinstance(row["seconds"], float | int) and row["seconds"] >= 0
    code, implicit = (
        {x["place"] for x in run["exposures"] if x["secret"] == "access_token"}
        for run in answer["runs"]
    )
    assert code == {"token-response", "client-session-store", "api-request"}
    assert {"address-bar-fragment", "js-memory"} <= implicit


def test_compare_without_chromium_says_what_to_install_and_exits_2() -> None:
    done = _tokenpath("compare", "--chromium", "/nonexistent/chromium")
    assert done.returncode == 2
    assert "apt install chromium" in done.stderr and "tokenpath[lab]" in done.stderr
    assert done.stdout == ""
