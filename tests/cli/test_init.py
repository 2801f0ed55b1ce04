"""The assembled ``tokenpath`` group: entry points, shared exit codes, the reference page."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tests.cli.conftest import clean_environ, run
from tokenpath.cli import main


def test_installed_entry_point_and_python_m(tmp_path: Path) -> None:
    env = clean_environ()
    env["TOKENPATH_DATA_DIR"] = str(tmp_path / "data")
    script = Path(sys.executable).parent / "tokenpath"
    created = subprocess.run(
        [str(script), "db", "upgrade"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    done = subprocess.run(
        [str(script), "client", "add", "--name", "X", "--type", "public",
         "--redirect-uri", "http://127.0.0.1/cb", "--scope", "openid", "--json"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    client_id = json.loads(done.stdout)["client_id"]
    listed = subprocess.run(
        [sys.executable, "-m", "tokenpath", "client", "list", "--json"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert [c["client_id"] for c in json.loads(listed.stdout)] == [client_id]


def test_insecure_configuration_exits_2(
    runner: CliRunner, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKENPATH_ISSUER", "http://as.example")
    code, out = run(runner, "db", "upgrade")
    assert code == 2 and "non-loopback" in out
    assert "db upgrade [OPTIONS]" in out  # reported like click's own usage errors
    monkeypatch.setenv("TOKENPATH_ISSUER", "http://127.0.0.1:9000")
    code, out = run(runner, "serve", "--host", "0.0.0.0")
    assert code == 2 and "refusing to bind" in out


def test_a_database_that_cannot_be_migrated_exits_1_without_its_password(
    runner: CliRunner, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKENPATH_DATABASE_URL", "postgresql+asyncpg://u:hunter22@127.0.0.1:1/x")
    for command, verb in ((["db", "upgrade"], "migrate"), (["keys", "list"], "open")):
        code, out = run(runner, *command)
        assert code == 1, out
        assert out.startswith(f"Error: cannot {verb} postgresql+asyncpg://u:***@127.0.0.1:1/x")
        assert "hunter22" not in out and "Usage:" not in out


def test_every_command_is_documented() -> None:
    """docs/reference/cli.md stays true: every command and subcommand has a row."""
    reference = (Path(__file__).parents[2] / "docs" / "reference" / "cli.md").read_text()
    names = []
    for name, command in main.commands.items():
        if isinstance(command, click.Group):
            names += [f"tokenpath {name} {sub}" for sub in command.commands]
        else:
            names.append(f"tokenpath {name}")
    assert [n for n in names if f"`{n}" not in reference] == []
    # db x4, keys x4, user x8, client x8, grants x2, admin token, registration token, login,
    # serve, demo, compare, check, config show, advise, api x5
    assert len(names) == 40


def test_check_reports_and_strict_fails(runner: CliRunner, bare_env: dict[str, str]) -> None:
    """The default loopback configuration is for development: strict mode says so."""
    code, out = run(runner, "check")
    assert code == 0 and "weak    TOKENPATH_ISSUER" in out and "TOKENPATH_KEY_ENCRYPTION_KEY" in out
    code, out = run(runner, "check", "--strict", "--json")
    findings = json.loads(out)
    assert code == 1 and {"setting", "severity", "message"} == set(findings[0])
    assert not Path(bare_env["TOKENPATH_DATA_DIR"]).exists()  # nothing was created
