"""The command line through click's runner, with a clean ``TOKENPATH_*`` environment."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from tokenpath.cli import main
from tokenpath.runtime import load_settings, migrate


@pytest.fixture
def bare_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A clean ``TOKENPATH_*`` environment whose data directory does not exist yet."""
    for name in list(os.environ):
        if name.startswith("TOKENPATH_"):
            monkeypatch.delenv(name)
    values = {"TOKENPATH_DATA_DIR": str(tmp_path / "data")}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    yield values


@pytest.fixture
def env(bare_env: dict[str, str]) -> dict[str, str]:
    """``bare_env`` with its database created, as ``tokenpath db upgrade`` leaves it."""
    migrate(load_settings())
    return bare_env


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run(runner: CliRunner, *args: str, input: str | None = None) -> tuple[int, str]:
    result = runner.invoke(main, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.output


def clean_environ() -> dict[str, str]:
    """This process's environment without any ``TOKENPATH_*`` setting, for a child process."""
    return {k: v for k, v in os.environ.items() if not k.startswith("TOKENPATH_")}


def wait_for(url: str, process: subprocess.Popen[str]) -> None:
    for _ in range(200):
        if process.poll() is not None:
            pytest.fail(f"process exited early: {process.communicate()[0]}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    pytest.fail(f"{url} did not come up")
