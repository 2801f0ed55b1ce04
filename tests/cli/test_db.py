"""``tokenpath db upgrade`` and ``tokenpath db cleanup``."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tests.cli.conftest import run


def test_db_upgrade_creates_the_data_dir_and_is_idempotent(
    runner: CliRunner, env: dict[str, str]
) -> None:
    code, out = run(runner, "db", "upgrade")
    assert code == 0, out
    assert (Path(env["TOKENPATH_DATA_DIR"]) / "tokenpath.db").is_file()
    assert run(runner, "db", "upgrade")[0] == 0


def test_db_cleanup(runner: CliRunner, env: dict[str, str]) -> None:
    code, out = run(runner, "db", "cleanup", "--grace", "0")
    assert code == 0 and "codes: 0" in out and "deleted" in out
