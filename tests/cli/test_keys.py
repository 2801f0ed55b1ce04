"""``tokenpath keys list`` and ``tokenpath keys rotate``."""

from __future__ import annotations

from click.testing import CliRunner

from tests.cli.conftest import run


def test_keys_rotate_and_list(runner: CliRunner, env: dict[str, str]) -> None:
    code, out = run(runner, "keys", "list")
    assert code == 0 and out.count("ES256") == 1 and "signing" in out
    first_kid = out.split()[0]
    code, out = run(runner, "keys", "rotate")
    assert code == 0 and "new signing key" in out
    new_kid = out.split()[3].rstrip(";")
    code, out = run(runner, "keys", "list")
    lines = out.strip().splitlines()
    assert [line.split()[0] for line in lines] == [new_kid, first_kid]
    assert "retiring" in lines[1]
